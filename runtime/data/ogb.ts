// Loader for OGB node-property datasets in their raw download layout:
//   raw/edge.csv.gz         src,dst per line (one direction; symmetrised here)
//   raw/num-node-list.csv.gz, raw/num-edge-list.csv.gz   one number each for a single graph
//   raw/node-feat.csv.gz    one row per node (absent for ogbn-proteins)
//   raw/edge-feat.csv.gz    one row per edge (ogbn-proteins, 8 dims), optional
//   raw/node-label.csv.gz   one column: class id; several: multi-label 0/1 (NaN/empty = missing)
//   split/<scheme>/{train,valid,test}.csv.gz   node ids
// It works unchanged for data/cora (split `public`), ogbn-arxiv (`time`), ogbn-products
// (`sales_ranking`) and ogbn-proteins (`species`). All bad input is reported as a DataError with
// the file and line.

import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type CsvTable, readCsvGz, readCsvGzSync } from "./csv.js";
import { DataError } from "./errors.js";
import { allNonNegative, rowNormalize } from "./features.js";
import { buildGraphFromPairs } from "./graph.js";
import { checkTrainSplit } from "./split-check.js";
import type { Dataset, Labels, Split } from "./types.js";

export { meanEdgeFeaturesToNodes, aggregateEdgeFeaturesToNodes } from "./features.js";

export interface OgbLoadOptions {
  /** Split scheme directory under split/; default: the only one present (error if several). */
  split?: string;
  /** Add reverse edges (default true, per spec/models.md). */
  symmetrize?: boolean;
  /**
   * "row": divide each feature row by its sum (GCN preprocessing; needs non-negative features).
   * "none": as read. "auto" (default): "row" when every feature is >= 0 (bag-of-words data such as
   * Cora), else "none" (embeddings such as ogbn-arxiv, where row sums are meaningless).
   */
  normalizeFeatures?: "row" | "none" | "auto";
}

const NUM_NODES_FILE = "raw/num-node-list.csv.gz";
const MAX_CLASSES = 1 << 16;

export async function loadOgbNodeDataset(dir: string, opts: OgbLoadOptions = {}): Promise<Dataset> {
  const f = (rel: string): string => join(dir, rel);
  checkLayout(dir);
  const split = resolveSplit(dir, opts.split);

  const numNodes = readNumNodes(f(NUM_NODES_FILE));
  const numEdgesDeclared = existsSync(f("raw/num-edge-list.csv.gz"))
    ? readSingleCount(f("raw/num-edge-list.csv.gz"), "edge count")
    : undefined;
  const hasNodeFeat = existsSync(f("raw/node-feat.csv.gz"));
  const hasEdgeFeat = existsSync(f("raw/edge-feat.csv.gz"));

  // Gunzip runs on libuv's thread pool, so reading the files together overlaps inflate and parse.
  // The first failure stops the other reads (no point inflating a 1 GB file after a bad edge).
  const stop = new AbortController();
  const signal = stop.signal;
  const guard = <T>(p: Promise<T>): Promise<T> =>
    p.catch((e: unknown) => {
      stop.abort();
      throw e;
    });
  const [edges, labelTable, featTable, edgeFeatTable] = await Promise.all([
    guard(readCsvGz(f("raw/edge.csv.gz"), {
      file: f("raw/edge.csv.gz"),
      kind: "uint",
      columns: 2,
      columnsWhat: "src,dst",
      what: "node id",
      rowsHint: numEdgesDeclared,
      signal,
    })),
    guard(readCsvGz(f("raw/node-label.csv.gz"), {
      file: f("raw/node-label.csv.gz"),
      kind: "float",
      allowMissing: true,
      rowsHint: numNodes,
      signal,
    })),
    hasNodeFeat
      ? guard(readCsvGz(f("raw/node-feat.csv.gz"), {
          file: f("raw/node-feat.csv.gz"),
          kind: "float",
          what: "feature value",
          rowsHint: numNodes,
          signal,
        }))
      : undefined,
    hasEdgeFeat
      ? guard(readCsvGz(f("raw/edge-feat.csv.gz"), {
          file: f("raw/edge-feat.csv.gz"),
          kind: "float",
          what: "edge feature value",
          rowsHint: numEdgesDeclared,
          signal,
        }))
      : undefined,
  ]);

  checkNodeIds(edges, numNodes, f("raw/edge.csv.gz"));
  if (numEdgesDeclared !== undefined && edges.rows !== numEdgesDeclared) {
    throw new DataError(
      `has ${edges.rows} edges but raw/num-edge-list.csv.gz says ${numEdgesDeclared}; is the download incomplete?`,
      { file: f("raw/edge.csv.gz") },
    );
  }
  const labels = toLabels(labelTable, numNodes, f("raw/node-label.csv.gz"));

  let features: Float32Array = new Float32Array(0);
  let numFeatures = 0;
  let featureNormalization: "row" | "none" = "none";
  if (featTable) {
    checkRowCount(featTable, numNodes, f("raw/node-feat.csv.gz"));
    features = featTable.data;
    numFeatures = featTable.cols;
    const mode = opts.normalizeFeatures ?? "auto";
    if (mode === "row") requireNonNegative(featTable, f("raw/node-feat.csv.gz"));
    if (mode === "row" || (mode === "auto" && allNonNegative(features))) {
      rowNormalize(features, numFeatures);
      featureNormalization = "row";
    }
  }

  const built = buildGraphFromPairs(numNodes, edges.data, { symmetrize: opts.symmetrize ?? true });
  const ds: Dataset = {
    name: basename(resolve(dir)),
    source: dir,
    graph: built.graph,
    numFeatures,
    features,
    featureNormalization,
    labels,
    split: await readSplit(dir, split, numNodes, labels, f("raw/node-label.csv.gz")),
    edgeStats: built.stats,
  };
  if (edgeFeatTable) {
    if (edgeFeatTable.rows !== edges.rows) {
      throw new DataError(
        `has ${edgeFeatTable.rows} rows but raw/edge.csv.gz has ${edges.rows} edges`,
        { file: f("raw/edge-feat.csv.gz") },
      );
    }
    const dim = edgeFeatTable.cols;
    const values = new Float32Array(built.graph.numEdges * dim);
    const src = edgeFeatTable.data;
    for (let k = 0; k < built.edgeOrigin.length; k++) {
      const r = built.edgeOrigin[k]!;
      values.set(src.subarray(r * dim, (r + 1) * dim), k * dim);
    }
    ds.edgeFeatures = { dim, values };
  }
  return ds;
}

/** True for a directory or a link to one (a dangling link is not). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function checkLayout(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError("dataset directory not found", { file: dir });
  }
  const raw = join(dir, "raw");
  if (existsSync(join(raw, "relations")) || existsSync(join(raw, "node-feat"))) {
    throw new DataError(
      "looks like a heterogeneous OGB dataset (raw/relations/); only homogeneous node-property datasets are supported",
      { file: dir },
    );
  }
  for (const rel of [NUM_NODES_FILE, "raw/edge.csv.gz", "raw/node-label.csv.gz"]) {
    if (!existsSync(join(dir, rel))) {
      throw new DataError(
        `missing file: ${rel} (expected the OGB node-property layout: raw/edge.csv.gz, raw/num-node-list.csv.gz, raw/node-label.csv.gz, split/<scheme>/)`,
        { file: join(dir, rel) },
      );
    }
  }
}

/** Picks the split scheme: the one asked for, else the only one present. */
export function resolveSplit(dir: string, wanted: string | undefined): string {
  const splitDir = join(dir, "split");
  const choices = existsSync(splitDir)
    ? readdirSync(splitDir, { withFileTypes: true })
        // A scheme may be a symbolic link to a directory (a split shared between copies).
        .filter((d) => d.isDirectory() || (d.isSymbolicLink() && isDirectory(join(splitDir, d.name))))
        .map((d) => d.name)
        .sort()
    : [];
  const available = choices.length ? `available: ${choices.join(", ")}` : "split/ has no scheme directories";
  if (wanted !== undefined) {
    if (!choices.includes(wanted)) {
      throw new DataError(`split \`${wanted}\` not found: expected split/${wanted}/train.csv.gz (${available})`, {
        file: dir,
      });
    }
    return wanted;
  }
  if (choices.length === 1) return choices[0]!;
  if (choices.length === 0) {
    throw new DataError("no split found: expected split/<scheme>/{train,valid,test}.csv.gz", { file: dir });
  }
  throw new DataError(`several splits present; choose one (${available})`, { file: dir });
}

function readSingleCount(path: string, what: string): number {
  const t = readCsvGzSync(path, { file: path, kind: "uint", what });
  if (t.cols !== 1) {
    throw new DataError(`row has ${t.cols} fields; expected 1 (${what})`, { file: path, line: 1 });
  }
  if (t.rows !== 1) {
    throw new DataError(
      `holds ${t.rows} graphs (one count per line); only single-graph node-property datasets are supported`,
      { file: path },
    );
  }
  return t.data[0]!;
}

function readNumNodes(path: string): number {
  const n = readSingleCount(path, "node count");
  if (n === 0) throw new DataError("the graph has 0 nodes", { file: path, line: 1 });
  return n;
}

function checkNodeIds(t: CsvTable<Uint32Array>, numNodes: number, file: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (d[i]! >= numNodes) {
      throw new DataError(
        `node id ${d[i]} is out of range: the graph has ${numNodes} nodes (${NUM_NODES_FILE})`,
        { file, line: Math.floor(i / t.cols) + 1, field: (i % t.cols) + 1 },
      );
    }
  }
}

function checkRowCount(t: CsvTable<Uint32Array | Float32Array>, numNodes: number, file: string): void {
  if (t.rows === numNodes) return;
  const detail = `has ${t.rows} rows; the graph has ${numNodes} nodes (${NUM_NODES_FILE})`;
  // Too many rows: point at the first extra one. Too few: the file simply ends early.
  throw new DataError(detail, t.rows > numNodes ? { file, line: numNodes + 1 } : { file });
}

function requireNonNegative(t: CsvTable<Float32Array>, file: string): void {
  for (let i = 0; i < t.data.length; i++) {
    if (t.data[i]! < 0) {
      throw new DataError(
        `feature value ${t.data[i]} is negative; row normalisation needs non-negative features (use normalizeFeatures: "none")`,
        { file, line: Math.floor(i / t.cols) + 1, field: (i % t.cols) + 1 },
      );
    }
  }
}

/** What a target or split file indexes: the nodes of one graph, or the graphs of a batch. */
export type IndexedItem = "node" | "graph";

function toLabels(t: CsvTable<Float32Array>, numNodes: number, file: string): Labels {
  checkRowCount(t, numNodes, file);
  return labelsFromTable(t, numNodes, file, "node");
}

/**
 * Targets from a label table (its row count already checked): one column is a class id per item
 * (missing = NaN → −1), several are 0/1 targets per item (missing = NaN).
 */
export function labelsFromTable(
  t: CsvTable<Float32Array>,
  count: number,
  file: string,
  item: IndexedItem,
): Labels {
  const where = (i: number) => ({ file, line: Math.floor(i / t.cols) + 1, field: (i % t.cols) + 1 });
  if (t.cols === 1) {
    const y = new Int32Array(count);
    let max = -1;
    for (let i = 0; i < count; i++) {
      const v = t.data[i]!;
      if (Number.isNaN(v)) {
        y[i] = -1;
        continue;
      }
      if (!Number.isInteger(v) || v < 0) {
        throw new DataError(`class label ${v} is not a non-negative integer`, where(i));
      }
      if (v >= MAX_CLASSES) {
        throw new DataError(`class label ${v} is implausibly large (limit ${MAX_CLASSES - 1})`, where(i));
      }
      y[i] = v;
      if (v > max) max = v;
    }
    if (max < 0) throw new DataError(`no ${item} has a label`, { file });
    return { kind: "single", numClasses: max + 1, y };
  }
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (v !== 0 && v !== 1 && !Number.isNaN(v)) {
      throw new DataError(`multi-label target ${v} must be 0, 1 or missing`, where(i));
    }
  }
  return { kind: "multi", numTasks: t.cols, y: t.data };
}

/**
 * The split's ids (nodes of the graph, or graphs of a batch): in range, each in at most one set,
 * and a train set that has labels.
 */
export async function readSplit(
  dir: string,
  scheme: string,
  count: number,
  labels: Labels,
  labelFile: string,
  item: IndexedItem = "node",
): Promise<Split> {
  const seen = new Uint8Array(count); // 0 = unused, else 1 + index of the part that took it
  const parts = ["train", "valid", "test"] as const;
  const out: Uint32Array[] = [];
  const outOfRange = (v: number) =>
    item === "node"
      ? `node id ${v} is out of range: the graph has ${count} nodes (${NUM_NODES_FILE})`
      : `graph id ${v} is out of range: the dataset has ${count} graphs`;
  for (let p = 0; p < parts.length; p++) {
    const rel = `split/${scheme}/${parts[p]}.csv.gz`;
    const file = join(dir, rel);
    if (!existsSync(file)) throw new DataError(`missing file: ${rel}`, { file });
    const t = await readCsvGz(file, { file, kind: "uint", columns: 1, what: `${item} id` });
    for (let i = 0; i < t.rows; i++) {
      const v = t.data[i]!;
      const at = { file, line: i + 1, field: 1 };
      if (v >= count) throw new DataError(outOfRange(v), at);
      if (seen[v]) {
        const prev = parts[seen[v]! - 1];
        const detail =
          prev === parts[p]
            ? `${item} ${v} is listed twice in the ${prev} set`
            : `${item} ${v} is in both the ${prev} and the ${parts[p]} set`;
        throw new DataError(detail, at);
      }
      seen[v] = p + 1;
    }
    if (p === 0) checkTrainSplit(t.data, labels, (i) => ({ file, line: i + 1, field: 1 }), labelFile, item);
    out.push(t.data);
  }
  return { name: scheme, train: out[0]!, valid: out[1]!, test: out[2]! };
}
