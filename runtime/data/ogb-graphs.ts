// Loader for OGB graph-property datasets (ogbg-*) in their raw download layout:
//   raw/num-node-list.csv.gz  nodes of each graph, one line per graph
//   raw/num-edge-list.csv.gz  edges of each graph, one line per graph
//   raw/edge.csv.gz           src,dst per line, each graph's edges in turn, ids local to the graph
//   raw/node-feat.csv.gz      one row per node, the graphs' nodes in turn (optional)
//   raw/graph-label.csv.gz    one row per graph: a class id, or several 0/1 targets (empty = missing)
//   split/<scheme>/{train,valid,test}.csv.gz   graph ids
// The graphs become one batch (./batch.ts): a disjoint union with each graph's nodes contiguous.
// Bad input is a DataError with the file, the line and the field, like the node-property loader.
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { buildBatch } from "./batch.js";
import { type CsvTable, readCsvGz, readCsvGzSync } from "./csv.js";
import { DataError } from "./errors.js";
import { labelsFromTable, readSplit, resolveSplit, type OgbLoadOptions } from "./ogb.js";
import type { Dataset, Labels } from "./types.js";

export const GRAPH_LABEL_FILE = "raw/graph-label.csv.gz";
const REQUIRED = [
  "raw/num-node-list.csv.gz",
  "raw/num-edge-list.csv.gz",
  "raw/edge.csv.gz",
  GRAPH_LABEL_FILE,
];

/** Whether a directory holds a graph-property dataset (graph labels rather than node labels). */
export function isOgbGraphDataset(dir: string): boolean {
  return existsSync(join(dir, GRAPH_LABEL_FILE));
}

export async function loadOgbGraphDataset(
  dir: string,
  opts: Pick<OgbLoadOptions, "split"> = {},
): Promise<Dataset> {
  const f = (rel: string): string => join(dir, rel);
  for (const rel of REQUIRED) {
    if (!existsSync(f(rel))) {
      throw new DataError(
        `missing file: ${rel} (expected the OGB graph-property layout: ${REQUIRED.join(", ")}, split/<scheme>/)`,
        { file: f(rel) },
      );
    }
  }
  const scheme = resolveSplit(dir, opts.split);
  const nodeCounts = readCounts(f("raw/num-node-list.csv.gz"), "node count");
  const edgeCounts = readCounts(f("raw/num-edge-list.csv.gz"), "edge count");
  const numGraphs = nodeCounts.length;
  if (edgeCounts.length !== numGraphs) {
    throw new DataError(
      `lists ${edgeCounts.length} graphs; raw/num-node-list.csv.gz lists ${numGraphs}`,
      { file: f("raw/num-edge-list.csv.gz") },
    );
  }
  const totalEdges = edgeCounts.reduce((a, b) => a + b, 0);
  const totalNodes = nodeCounts.reduce((a, b) => a + b, 0);
  const edges = await readCsvGz(f("raw/edge.csv.gz"), {
    file: f("raw/edge.csv.gz"),
    kind: "uint",
    columns: 2,
    columnsWhat: "src,dst",
    what: "node id",
    rowsHint: totalEdges,
  });
  if (edges.rows !== totalEdges) {
    throw new DataError(
      `has ${edges.rows} edges but raw/num-edge-list.csv.gz adds up to ${totalEdges}; is the download incomplete?`,
      { file: f("raw/edge.csv.gz") },
    );
  }
  const pairs = globalEdgeIds(edges, nodeCounts, edgeCounts, f("raw/edge.csv.gz"));
  const built = buildBatch(nodeCounts, pairs);

  let features: Float32Array = new Float32Array(0);
  let numFeatures = 0;
  if (existsSync(f("raw/node-feat.csv.gz"))) {
    const file = f("raw/node-feat.csv.gz");
    const t = await readCsvGz(file, { file, kind: "float", what: "feature value" });
    checkRows(t, totalNodes, "nodes (raw/num-node-list.csv.gz adds up to that)", file);
    features = t.data;
    numFeatures = t.cols;
  }
  const labelFile = f(GRAPH_LABEL_FILE);
  const labelTable = await readCsvGz(labelFile, {
    file: labelFile,
    kind: "float",
    allowMissing: true,
  });
  const labels = graphLabels(labelTable, numGraphs, labelFile);
  return {
    name: basename(resolve(dir)),
    source: dir,
    graph: built.graph,
    numFeatures,
    features,
    featureNormalization: "none",
    targets: "graphs",
    labels,
    split: await readSplit(dir, scheme, numGraphs, labels, labelFile, "graph"),
    edgeStats: built.stats,
  };
}

/** One count per line (a graph each); a graph without nodes is allowed, a malformed line not. */
function readCounts(path: string, what: string): number[] {
  const t = readCsvGzSync(path, { file: path, kind: "uint", what });
  if (t.cols !== 1) {
    throw new DataError(`row has ${t.cols} fields; expected 1 (${what})`, { file: path, line: 1 });
  }
  if (t.rows === 0) throw new DataError("lists no graph", { file: path });
  return Array.from(t.data);
}

/** Local (per-graph) endpoint ids → ids in the batch, each checked against its graph's size. */
function globalEdgeIds(
  edges: CsvTable<Uint32Array>,
  nodeCounts: number[],
  edgeCounts: number[],
  file: string,
): Uint32Array {
  const out = new Uint32Array(edges.data.length);
  let row = 0;
  let offset = 0;
  nodeCounts.forEach((n, g) => {
    for (let e = 0; e < edgeCounts[g]!; e++, row++) {
      for (let c = 0; c < 2; c++) {
        const local = edges.data[row * 2 + c]!;
        if (local >= n) {
          throw new DataError(
            `node id ${local} is out of range: graph ${g} has ${n} nodes (ids are local to each graph)`,
            { file, line: row + 1, field: c + 1 },
          );
        }
        out[row * 2 + c] = offset + local;
      }
    }
    offset += n;
  });
  return out;
}

function checkRows(t: CsvTable<Float32Array>, want: number, what: string, file: string): void {
  if (t.rows === want) return;
  const detail = `has ${t.rows} rows; expected ${want}, one per ${what}`;
  throw new DataError(detail, t.rows > want ? { file, line: want + 1 } : { file });
}

/** One column: a class id per graph; several: 0/1 targets per graph (missing = NaN). */
function graphLabels(t: CsvTable<Float32Array>, numGraphs: number, file: string): Labels {
  checkRows(t, numGraphs, "graph (raw/num-node-list.csv.gz lists that many)", file);
  return labelsFromTable(t, numGraphs, file, "graph");
}
