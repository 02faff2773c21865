// Writes a result set: <stem>.json (everything), <stem>.md (the summary) and <stem>-<plot>.svg,
// each atomically (temp file + rename), so that an interrupted run never leaves a torn file and
// the suite can rewrite its files after every section.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../runtime/util/atomic-write.js";
import type { SuiteResult } from "../types.js";
import { markdownSummary } from "./markdown.js";
import { PLOTS, renderSvg } from "./plots.js";

export async function writeResultSet(dir: string, stem: string, r: SuiteResult): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const plots = new Set<string>();
  for (const [name, make] of Object.entries(PLOTS)) {
    const spec = make(r);
    if (!spec) continue;
    const file = join(dir, `${stem}-${name}.svg`);
    await writeFileAtomic(file, await renderSvg(spec));
    plots.add(name);
    files.push(file);
  }
  const json = join(dir, `${stem}.json`);
  await writeFileAtomic(json, JSON.stringify(r, null, 2) + "\n");
  const md = join(dir, `${stem}.md`);
  await writeFileAtomic(md, markdownSummary(r, stem, plots));
  return [json, md, ...files];
}
