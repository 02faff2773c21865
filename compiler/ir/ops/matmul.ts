// Matrix product with optional transposed operands (the backward pass needs Aᵀ·B and A·Bᵀ).
import { dimEquals, dimToString, shapeToString } from "../dims.js";
import type { OpDef } from "../op-def.js";
import { tensor } from "../tensor.js";

export const matmulOp: OpDef = {
  name: "matmul",
  doc: "matrix product op(a) @ op(b), op = identity or transpose (transA, transB)",
  shape: ([a, b], attrs) => {
    if (a!.length !== 2 || b!.length !== 2) {
      return `@ multiplies matrices, got ${shapeToString(a!)} @ ${shapeToString(b!)}`;
    }
    const [m, ka] = attrs.transA ? [a![1]!, a![0]!] : [a![0]!, a![1]!];
    const [kb, n] = attrs.transB ? [b![1]!, b![0]!] : [b![0]!, b![1]!];
    if (!dimEquals(ka, kb)) {
      return `inner dimensions of @ differ: ${shapeToString(a!)} @ ${shapeToString(b!)} (${dimToString(ka)} ≠ ${dimToString(kb)})`;
    }
    return [[m, n]];
  },
  evaluate: ([a, b], attrs) => {
    const tA = !!attrs.transA;
    const tB = !!attrs.transB;
    const [ar, ac] = a!.shape as [number, number];
    const [br, bc] = b!.shape as [number, number];
    const m = tA ? ac : ar;
    const k = tA ? ar : ac;
    const n = tB ? br : bc;
    const out = tensor([m, n]);
    const A = a!.data;
    const B = b!.data;
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const av = tA ? A[p * ac + i]! : A[i * ac + p]!;
        if (av === 0) continue;
        for (let j = 0; j < n; j++) {
          out.data[i * n + j]! += av * (tB ? B[j * bc + p]! : B[p * bc + j]!);
        }
      }
    }
    return [out];
  },
  vjp: (b, { inputs: [A, B], attrs }, [d]) => {
    if (!d) return [undefined, undefined];
    const mm = (x: typeof d, y: typeof d, transA: boolean, transB: boolean) =>
      b.op("matmul", [x, y], { transA, transB });
    const tA = !!attrs.transA;
    const tB = !!attrs.transB;
    if (!tA && !tB) return [mm(d, B!, false, true), mm(A!, d, true, false)];
    if (tA && !tB) return [mm(B!, d, false, true), mm(A!, d, false, false)];
    if (!tA && tB) return [mm(d, B!, false, false), mm(d, A!, true, false)];
    return [mm(B!, d, true, true), mm(d, A!, true, true)];
  },
  lowering: { kind: "matmul" },
};
