// Whether dist/ holds a build of the current sources: shared by the set-up script (which rebuilds
// when it does not) and the CLI tests (which then run the built command instead of transpiling the
// sources at every spawn). Only Node built-ins: this runs before `npm ci`.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** The folders tsc compiles: the first segment of every `include` pattern of tsconfig.json. */
export function sourceDirs(root) {
  const config = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8"));
  return [...new Set(config.include.map((pattern) => pattern.split("/")[0]))];
}

function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|gnn)$/.test(entry.name)) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

const stampPath = (root) => join(root, "dist", ".buildstamp");

/** True when dist/ was built (by the set-up script) after every source and tsconfig.json changed. */
export function isBuildFresh(root) {
  const stamp = stampPath(root);
  if (!existsSync(stamp)) return false;
  const newest = Math.max(
    ...sourceDirs(root).map((d) => newestSource(join(root, d))),
    mtime(join(root, "tsconfig.json")),
  );
  return mtime(stamp) >= newest;
}

/** Records that dist/ now holds a build of the current sources. */
export function stampBuild(root) {
  writeFileSync(stampPath(root), new Date().toISOString() + "\n");
}
