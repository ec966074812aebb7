CREATE TABLE "message_feedback" (
	"message_id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"rating" text NOT NULL,
	"reason" text,
	"comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "cost_cny" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "version_of" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "superseded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "message_feedback" ADD CONSTRAINT "message_feedback_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_feedback" ADD CONSTRAINT "message_feedback_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "message_feedback_created_idx" ON "message_feedback" USING btree ("created_at","message_id");--> statement-breakpoint
CREATE INDEX "message_feedback_user_idx" ON "message_feedback" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "messages_version_of_idx" ON "messages" USING btree ("version_of");--> statement-breakpoint
CREATE INDEX "messages_usage_idx" ON "messages" USING btree ("created_at") WHERE "messages"."prompt_tokens" is not null;