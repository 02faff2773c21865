// Lowering scopes. Each scope builds one IR graph: the model's top level, a `repeat` body (a scan
// region), or a statement region (a reversible update's function, a fixpoint cell). Regions are
// closed, so a value from an enclosing scope reaches an inner one as an input, threaded through
// every scope in between ("captures"). Parameters declared inside a `repeat` are stacked along a
// new leading axis of size L and reach the body as per-iteration slices; in `repeat L shared` and
// in regions they pass through unchanged. Model state (`state mu: [d] = zeros`) travels the same
// way inwards; its new value travels back out: a region returns it after its update values (the
// rev_block's state outputs), a loop body as a per-iteration output (stacked like the state), and
// the model's graph returns it after the loss and prediction.
import { Builder } from "../ir/builder.js";
import { Graph, Value, tensorType, type Dim } from "../ir/types.js";
import type { Span } from "../../grammar/ast.js";

export type InitSpec =
  | { kind: "glorot" }
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "normal"; std: number }
  | { kind: "uniform"; bound: number }
  | { kind: "constant"; value: number };

export interface ParamSpec {
  /** Dotted path: `blocks.group1.gcn_conv.W`. */
  name: string;
  /** Full shape: the stack counts of enclosing repeats first, then the declared shape. */
  shape: Dim[];
  /** The declared shape (what each block sees). */
  blockShape: Dim[];
  /** Counts of the enclosing non-shared repeats, outermost first. */
  stacked: number[];
  init: InitSpec;
  /** Its own weight decay (`param W: … = glorot, decay = 0.01`); absent: the run's. */
  weightDecay?: number;
  loc?: Span;
}

/** A model-state tensor: declared like a parameter, never trained (see grammar/README.md). */
export type StateSpec = Omit<ParamSpec, "weightDecay">;

/** A state's new value, as one scope hands it to its parent. */
export interface StateUpdate {
  /** The state's dotted path (its StateSpec's name at the model's top level). */
  name: string;
  value: Value;
}

type InputRole = "carry" | "xs" | "const";

interface ScopeInput {
  local: Value;
  role: InputRole;
  /** The value in the parent scope that feeds this input (stacked for xs). */
  outer: Value;
}

export abstract class Scope {
  readonly ops = new Graph("scratch", []);
  readonly b: Builder;
  protected readonly own = new Set<Value>();
  protected readonly inputs: ScopeInput[] = [];
  private readonly captured = new Map<Value, Value>();
  private iterationValue?: Value;

  constructor(
    readonly parent: Scope | undefined,
    readonly name: string,
    loc?: Span,
  ) {
    this.b = new Builder(this.ops, loc);
  }

  private scannedOps = 0;

  /** Whether v is defined in this scope (an input or the result of one of its ops). */
  owns(v: Value): boolean {
    const ops = this.ops.ops;
    while (this.scannedOps < ops.length)
      for (const o of ops[this.scannedOps++]!.outputs) this.own.add(o);
    return this.own.has(v);
  }

  protected addInput(role: InputRole, outer: Value, local: Value): Value {
    this.inputs.push({ local, role, outer });
    this.own.add(local);
    return local;
  }

  /** A value usable in this scope for v, defined here or in any enclosing scope. */
  import(v: Value): Value {
    if (this.owns(v)) return v;
    if (!this.parent) throw new Error(`lowering: value %${v.id} is not visible`);
    const outer = this.parent.import(v);
    const hit = this.captured.get(outer);
    if (hit) return hit;
    const local = this.addInput("const", outer, new Value(tensorType(outer.shape), outer.hint));
    this.captured.set(outer, local);
    return local;
  }

  /** Declares a parameter seen from this scope; returns the value the body reads. */
  abstract param(spec: ParamSpec): Value;

  /** Declares a model state seen from this scope; returns its value before the step. */
  abstract state(spec: StateSpec): Value;

  /**
   * Records a state's new value, computed in this scope; the scope passes it outwards when it is
   * finished. Throws a message (for a located error) where a scope cannot return one.
   */
  abstract updateState(update: StateUpdate): void;

  /** The iteration number that keys dropout streams (0 outside loops; unique per block). */
  iteration(): Value {
    if (!this.iterationValue) this.iterationValue = this.makeIteration();
    return this.iterationValue;
  }
  protected abstract makeIteration(): Value;
}

/** The model's top level: graph inputs are the model's arguments and its parameters. */
export class ModelScope extends Scope {
  readonly params: ParamSpec[] = [];
  readonly paramValues: Value[] = [];
  readonly dataInputs: Value[] = [];
  readonly states: StateSpec[] = [];
  readonly stateValues: Value[] = [];
  private readonly newStates = new Map<string, Value>();

  constructor(name: string) {
    super(undefined, name);
  }

  dataInput(shape: Dim[], hint: string): Value {
    const v = new Value(tensorType(shape), hint);
    this.dataInputs.push(v);
    this.own.add(v);
    return v;
  }

  param(spec: ParamSpec): Value {
    if (this.params.some((p) => p.name === spec.name)) {
      throw new Error(`internal: parameter ${spec.name} declared twice`);
    }
    const v = new Value(tensorType(spec.shape), spec.name);
    this.params.push(spec);
    this.paramValues.push(v);
    this.own.add(v);
    return v;
  }

  state(spec: StateSpec): Value {
    if (this.states.some((p) => p.name === spec.name)) {
      throw new Error(`internal: state ${spec.name} declared twice`);
    }
    const v = new Value(tensorType(spec.shape), spec.name);
    this.states.push(spec);
    this.stateValues.push(v);
    this.own.add(v);
    return v;
  }

  updateState({ name, value }: StateUpdate): void {
    if (this.newStates.has(name)) throw new Error(`internal: state ${name} updated twice`);
    this.newStates.set(name, value);
  }

  protected makeIteration(): Value {
    return this.b.fill(0);
  }

  /**
   * The model graph: inputs [data…, params…, states…]; outputs the given ones, then, when
   * `withStates`, every state's new value in declaration order (a state no statement updates
   * keeps its value).
   */
  finish(outputs: Value[], withStates = false): Graph {
    const g = new Graph(this.name, [...this.dataInputs, ...this.paramValues, ...this.stateValues]);
    g.ops.push(...this.ops.ops);
    const next = this.states.map((s, i) => this.newStates.get(s.name) ?? this.stateValues[i]!);
    g.outputs = withStates ? [...outputs, ...next] : outputs;
    return g;
  }
}

/** A `repeat L` body: a scan region. */
export class LoopScope extends Scope {
  private readonly carries: { local: Value; outer: Value }[] = [];
  private readonly newStates: StateUpdate[] = [];
  private iota?: Value;

  constructor(
    parent: Scope,
    name: string,
    readonly count: number,
    readonly shared: boolean,
    loc?: Span,
  ) {
    super(parent, name, loc);
  }

  carry(outer: Value, hint: string, quantizeBits?: number): Value {
    // Exact mode: the loop's state enters on the fixed-point grid, so that the first block's
    // input is rebuilt bit for bit too.
    if (quantizeBits !== undefined)
      outer = this.parent!.b.unary("quantize", outer, { bits: quantizeBits });
    const local = new Value(tensorType(outer.shape), hint);
    this.carries.push({ local, outer });
    this.own.add(local);
    return local;
  }

  param(spec: ParamSpec): Value {
    if (this.shared) return this.import(this.parent!.param(spec));
    const stackedSpec: ParamSpec = {
      ...spec,
      shape: [this.count, ...spec.shape],
      stacked: [this.count, ...spec.stacked],
    };
    const outer = this.parent!.param(stackedSpec);
    return this.addInput("xs", outer, new Value(tensorType(spec.shape), spec.name));
  }

  state(spec: StateSpec): Value {
    if (this.shared) return this.import(this.parent!.state(spec));
    const outer = this.parent!.state(stackStateSpec(spec, this.count));
    return this.addInput("xs", outer, new Value(tensorType(spec.shape), spec.name));
  }

  updateState(update: StateUpdate): void {
    if (this.shared) {
      throw new StateUpdateRefused(
        "a state cannot be updated inside `repeat … shared`: every block would write the one running value",
      );
    }
    this.newStates.push(update);
  }

  protected makeIteration(): Value {
    // Iterations of nested loops are numbered outer·L + inner, so every block has its own stream.
    this.iota ??= this.parent!.b.op("iota", [], { count: this.count });
    const local = this.addInput(
      "xs",
      this.parent!.import(this.iota),
      new Value(tensorType([]), "iter"),
    );
    if (this.parent instanceof ModelScope) return local;
    const outerIter = this.import(this.parent!.iteration());
    return this.b.add(this.b.mul(outerIter, this.b.fill(this.count)), local);
  }

  /** Emits the scan into the parent; returns the carried values after the loop. */
  finish(carryOut: Value[]): Value[] {
    const xs = this.inputs.filter((i) => i.role === "xs");
    const consts = this.inputs.filter((i) => i.role === "const");
    const body = new Graph(this.name, [
      ...this.carries.map((c) => c.local),
      ...xs.map((i) => i.local),
      ...consts.map((i) => i.local),
    ]);
    body.ops.push(...this.ops.ops);
    // Each block's new state values leave as per-iteration outputs, stacked like the state.
    body.outputs = [...carryOut, ...this.newStates.map((u) => this.import(u.value))];
    // The scan carries the repeat's span, so that what is said about the loop (it keeps its
    // activations, and why) points at the `repeat` in the source.
    const outs = new Builder(this.parent!.ops, this.b.loc).emit(
      "scan",
      [
        ...this.carries.map((c) => c.outer),
        ...xs.map((i) => i.outer),
        ...consts.map((i) => i.outer),
      ],
      { count: this.count, numCarry: this.carries.length, numXs: xs.length, reverse: false },
      [body],
    );
    const numCarry = this.carries.length;
    this.newStates.forEach((u, i) =>
      this.parent!.updateState({ name: u.name, value: outs[numCarry + i]! }),
    );
    return outs.slice(0, numCarry);
  }
}

/**
 * A region of a control op in the parent scope (a reversible statement's function, a fixpoint
 * cell): explicit arguments first, then whatever it captures from outside (consts).
 */
export class RegionScope extends Scope {
  readonly args: Value[] = [];
  /** New state values this region returns after its own outputs (a rev_block statement's). */
  readonly newStates: StateUpdate[] = [];

  /**
   * `states`: whether the region can return new state values — a reversible statement's can (the
   * rev_block passes them on), a fixpoint cell's cannot (it runs until convergence: which
   * iteration's statistics would the state keep?).
   */
  constructor(
    parent: Scope,
    name: string,
    loc?: Span,
    private readonly states: "returned" | { refused: string } = "returned",
  ) {
    super(parent, name, loc);
  }

  arg(shape: readonly Dim[], hint: string): Value {
    const v = new Value(tensorType(shape), hint);
    this.args.push(v);
    this.own.add(v);
    return v;
  }

  param(spec: ParamSpec): Value {
    return this.import(this.parent!.param(spec));
  }

  state(spec: StateSpec): Value {
    return this.import(this.parent!.state(spec));
  }

  updateState(update: StateUpdate): void {
    if (this.states !== "returned") throw new StateUpdateRefused(this.states.refused);
    this.newStates.push(update);
  }

  protected makeIteration(): Value {
    return this.import(this.parent!.iteration());
  }

  /** The captured outer values, in input order (what the control op passes as consts). */
  get capturedOuter(): Value[] {
    return this.inputs.map((i) => i.outer);
  }

  /**
   * The region graph with inputs [args…, consts…], where consts follows `constOrder` (outer
   * values; those this region did not capture become unused inputs).
   */
  finish(outputs: Value[], constOrder: Value[]): Graph {
    const mine = new Map(this.inputs.map((i) => [i.outer, i.local]));
    const consts = constOrder.map((o) => mine.get(o) ?? new Value(tensorType(o.shape), o.hint));
    const g = new Graph(this.name, [...this.args, ...consts]);
    g.ops.push(...this.ops.ops);
    g.outputs = outputs;
    return g;
  }
}

/** A scope cannot return a state's new value; the message says why (the caller locates it). */
export class StateUpdateRefused extends Error {}

/** A state declared inside a `repeat` of `count` blocks: one row per block. */
function stackStateSpec(spec: StateSpec, count: number): StateSpec {
  return { ...spec, shape: [count, ...spec.shape], stacked: [count, ...spec.stacked] };
}
