// Regenerates grammar/cst.d.ts, the typed CST that the AST builder is written against, from the
// parser's grammar. Run `npm run build && npm run gen:cst` after changing parser.ts and commit the
// result; tests/grammar/cst-dts.test.ts fails while the committed file is stale.
import { generateCstDts } from "./chevrotain.js";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parser } from "./parser.js";

// This file runs from dist/grammar/; the declarations belong next to the sources.
const target = join(dirname(fileURLToPath(import.meta.url)), "../../grammar/cst.d.ts");
writeFileSync(target, generateCstDts(parser.getGAstProductions()));
console.log(`wrote ${target}`);
