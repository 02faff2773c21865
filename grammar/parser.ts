// The .gnn grammar as a chevrotain CstParser (grammar/README.md has it in EBNF). It builds a
// concrete syntax tree that ast-builder.ts turns into the AST. Error recovery is on, so one run
// reports several syntax errors; the messages are structured descriptors that syntax-errors.ts
// words for people.
//
// Two places deliberately accept more than the language, so that a common slip is reported by the
// AST builder precisely and parsing carries on normally after it:
//  - a layer result type without `->`;
//  - `let x += e` (an update operator where `let`/`var` need `=`).
import { RecoveringParser } from "./recovery.js";
import * as t from "./tokens.js";
import { descriptorMessages } from "./syntax-errors.js";

export class GnnParser extends RecoveringParser {
  constructor() {
    super(t.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: "full",
      maxLookahead: 2,
      errorMessageProvider: descriptorMessages,
    });
    this.performSelfAnalysis();
  }

  /** Newlines are not tokens, so `h = x` followed by a line `(a, b) = y` would read as a call
   *  `x(a, b)`. A call's, an index's or a grouped layer's argument list therefore only continues
   *  an expression when it opens on the line where the previous token ends. */
  private opensOnSameLine(): boolean {
    return this.LA(1).startLine === this.LA(0).endLine;
  }

  program = this.RULE("program", () => {
    this.MANY(() => this.SUBRULE(this.decl));
  });

  // ---- declarations ------------------------------------------------------------------------------

  /** A rule of its own so that the CST keeps layers and models in source order. */
  decl = this.RULE("decl", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.layerDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
    ]);
  });

  layerDecl = this.RULE("layerDecl", () => {
    this.CONSUME(t.Layer);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.LParen);
    this.SUBRULE(this.signature);
    this.CONSUME(t.RParen);
    // The arrow is optional here only so that its absence gets a precise error (see the top).
    this.OPTION(() => {
      this.OPTION2(() => this.CONSUME(t.Arrow));
      this.SUBRULE(this.resultTypes);
    });
    this.OPTION3(() => this.CONSUME(t.Reversible));
    this.SUBRULE(this.block);
  });

  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(t.Model);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.LParen);
    this.SUBRULE(this.signature);
    this.CONSUME(t.RParen);
    this.SUBRULE(this.block);
  });

  /** Tensor arguments, then `;` and hyperparameters; both parts may be empty. */
  signature = this.RULE("signature", () => {
    this.OPTION(() => {
      this.SUBRULE(this.tensorArg);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.tensorArg);
      });
    });
    this.OPTION2(() => {
      this.CONSUME(t.Semicolon);
      this.SUBRULE(this.hyperArg);
      this.MANY2(() => {
        this.CONSUME2(t.Comma);
        this.SUBRULE2(this.hyperArg);
      });
    });
  });

  tensorArg = this.RULE("tensorArg", () => {
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Colon);
    this.SUBRULE(this.tensorType);
  });

  hyperArg = this.RULE("hyperArg", () => {
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Colon);
    this.OR({
      ERR_MSG: "hyperType",
      DEF: [
        { ALT: () => this.CONSUME(t.Int) },
        { ALT: () => this.CONSUME(t.Float) },
        { ALT: () => this.CONSUME(t.Bool) },
      ],
    });
    this.OPTION(() => {
      this.CONSUME(t.Equals);
      this.SUBRULE(this.literal);
    });
  });

  literal = this.RULE("literal", () => {
    this.OR({
      ERR_MSG: "literal",
      DEF: [
        {
          ALT: () => {
            this.OPTION(() => this.CONSUME(t.Minus));
            this.CONSUME(t.NumberLiteral);
          },
        },
        { ALT: () => this.CONSUME(t.True) },
        { ALT: () => this.CONSUME(t.False) },
      ],
    });
  });

  resultTypes = this.RULE("resultTypes", () => {
    this.OR({
      ERR_MSG: "resultType",
      DEF: [
        { ALT: () => this.SUBRULE(this.tensorType) },
        {
          ALT: () => {
            this.CONSUME(t.LParen);
            this.SUBRULE2(this.tensorType);
            this.MANY(() => {
              this.CONSUME(t.Comma);
              this.SUBRULE3(this.tensorType);
            });
            this.CONSUME(t.RParen);
          },
        },
      ],
    });
  });

  // ---- types -------------------------------------------------------------------------------------

  tensorType = this.RULE("tensorType", () => {
    this.OPTION(() =>
      this.OR([{ ALT: () => this.CONSUME(t.Labels) }, { ALT: () => this.CONSUME(t.Multilabels) }]),
    );
    this.CONSUME(t.LBracket);
    this.SUBRULE(this.dim);
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.dim);
    });
    this.CONSUME(t.RBracket);
  });

  /** A dimension: sums of products of terms, so `*` and `/` bind tighter than `+` and `-`. */
  dim = this.RULE("dim", () => {
    this.SUBRULE(this.dimProduct);
    this.MANY(() => {
      this.CONSUME(t.AdditiveOp);
      this.SUBRULE2(this.dimProduct);
    });
  });

  dimProduct = this.RULE("dimProduct", () => {
    this.SUBRULE(this.dimTerm);
    this.MANY(() => {
      this.CONSUME(t.DimMulOp);
      this.SUBRULE2(this.dimTerm);
    });
  });

  dimTerm = this.RULE("dimTerm", () => {
    this.OR({
      ERR_MSG: "dim",
      DEF: [
        { ALT: () => this.CONSUME(t.IntLiteral) },
        { ALT: () => this.CONSUME(t.Identifier) },
        {
          ALT: () => {
            this.CONSUME(t.LParen);
            this.SUBRULE(this.dim);
            this.CONSUME(t.RParen);
          },
        },
      ],
    });
  });

  // ---- statements --------------------------------------------------------------------------------

  block = this.RULE("block", () => {
    this.CONSUME(t.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.stmt);
      this.OPTION(() => this.CONSUME(t.Semicolon));
    });
    this.CONSUME(t.RBrace);
  });

  /** Every alternative is chosen by its first token, so a statement that goes wrong has always
   *  consumed something before failing, and recovery moves on to the next statement. */
  stmt = this.RULE("stmt", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.paramStmt) },
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.repeatStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.lossStmt) },
      { ALT: () => this.SUBRULE(this.outputStmt) },
      { ALT: () => this.SUBRULE(this.assignOrUpdateStmt) },
      { ALT: () => this.SUBRULE(this.tupleAssignStmt) },
    ]);
  });

  /** `param W: … = init` and `state mu: … = init` (model state: not trained, see the README). */
  paramStmt = this.RULE("paramStmt", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Param) }, { ALT: () => this.CONSUME(t.State) }]);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.Colon);
    this.SUBRULE(this.tensorType);
    this.CONSUME(t.Equals);
    this.CONSUME2(t.Identifier, { LABEL: "init" });
    this.OPTION({
      GATE: () => this.opensOnSameLine(),
      DEF: () => {
        this.CONSUME(t.LParen);
        this.SUBRULE(this.literal);
        this.MANY(() => {
          this.CONSUME(t.Comma);
          this.SUBRULE2(this.literal);
        });
        this.CONSUME(t.RParen);
      },
    });
    // `, decay = 0.01`: an option of this parameter (the builder checks its name).
    this.OPTION2(() => {
      this.CONSUME2(t.Comma);
      this.CONSUME3(t.Identifier, { LABEL: "option" });
      this.CONSUME2(t.Equals);
      this.SUBRULE(this.expression, { LABEL: "optionValue" });
    });
  });

  /** `let`/`var` bindings; also the only statements allowed in aggregate and fixpoint bodies. */
  letStmt = this.RULE("letStmt", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Let) }, { ALT: () => this.CONSUME(t.Var) }]);
    this.SUBRULE(this.pattern);
    // An update operator is accepted only to be reported precisely (see the top).
    this.OR2({
      ERR_MSG: "bindEquals",
      DEF: [{ ALT: () => this.CONSUME(t.Equals) }, { ALT: () => this.CONSUME(t.UpdateOp) }],
    });
    this.SUBRULE(this.expression);
  });

  /** `h = e` or `h += e`: one rule, so that the choice is made after the name. */
  assignOrUpdateStmt = this.RULE("assignOrUpdateStmt", () => {
    this.CONSUME(t.Identifier);
    this.OR({
      ERR_MSG: "assignOp",
      DEF: [{ ALT: () => this.CONSUME(t.Equals) }, { ALT: () => this.CONSUME(t.UpdateOp) }],
    });
    this.SUBRULE(this.expression);
  });

  /** `(a, b) = e`; a statement never starts with an expression, so `(` always starts this. */
  tupleAssignStmt = this.RULE("tupleAssignStmt", () => {
    this.SUBRULE(this.tuplePattern);
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expression);
  });

  pattern = this.RULE("pattern", () => {
    this.OR({
      ERR_MSG: "pattern",
      DEF: [
        { ALT: () => this.CONSUME(t.Identifier) },
        { ALT: () => this.SUBRULE(this.tuplePattern) },
      ],
    });
  });

  tuplePattern = this.RULE("tuplePattern", () => {
    this.CONSUME(t.LParen);
    this.CONSUME(t.Identifier);
    this.AT_LEAST_ONE(() => {
      this.CONSUME(t.Comma);
      this.CONSUME2(t.Identifier);
    });
    this.CONSUME(t.RParen);
  });

  repeatStmt = this.RULE("repeatStmt", () => {
    this.CONSUME(t.Repeat);
    this.SUBRULE(this.dim);
    this.OPTION(() => this.CONSUME(t.Shared));
    this.OPTION2(() => {
      this.CONSUME(t.As);
      this.CONSUME(t.Identifier);
    });
    this.SUBRULE(this.block);
  });

  returnStmt = this.RULE("returnStmt", () => {
    this.CONSUME(t.Return);
    this.SUBRULE(this.expression);
  });

  lossStmt = this.RULE("lossStmt", () => {
    this.CONSUME(t.Loss);
    this.SUBRULE(this.expression);
  });

  outputStmt = this.RULE("outputStmt", () => {
    this.CONSUME(t.Output);
    this.SUBRULE(this.expression);
  });

  // ---- expressions -------------------------------------------------------------------------------

  expression = this.RULE("expression", () => {
    this.SUBRULE(this.multiplicativeExpr);
    this.MANY(() => {
      this.CONSUME(t.AdditiveOp);
      this.SUBRULE2(this.multiplicativeExpr);
    });
  });

  multiplicativeExpr = this.RULE("multiplicativeExpr", () => {
    this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      this.CONSUME(t.MultiplicativeOp);
      this.SUBRULE2(this.unaryExpr);
    });
  });

  unaryExpr = this.RULE("unaryExpr", () => {
    this.OR({
      ERR_MSG: "expression",
      DEF: [
        {
          ALT: () => {
            this.CONSUME(t.Minus);
            this.SUBRULE(this.unaryExpr);
          },
        },
        { ALT: () => this.SUBRULE(this.postfixExpr) },
      ],
    });
  });

  /** `x[u]`: a node tensor read at an edge endpoint; `t[0]`: an item of a tuple. */
  postfixExpr = this.RULE("postfixExpr", () => {
    this.SUBRULE(this.primary);
    this.MANY({
      GATE: () => this.opensOnSameLine(),
      DEF: () => {
        this.CONSUME(t.LBracket);
        this.OR({
          ERR_MSG: "bracketIndex",
          DEF: [
            { ALT: () => this.CONSUME(t.Identifier) },
            { ALT: () => this.CONSUME(t.NumberLiteral) },
          ],
        });
        this.CONSUME(t.RBracket);
      },
    });
  });

  primary = this.RULE("primary", () => {
    this.OR({
      ERR_MSG: "expression",
      DEF: [
        { ALT: () => this.CONSUME(t.NumberLiteral) },
        { ALT: () => this.SUBRULE(this.nameOrCall) },
        { ALT: () => this.SUBRULE(this.parenExpr) },
        { ALT: () => this.SUBRULE(this.aggregateExpr) },
        { ALT: () => this.SUBRULE(this.groupsExpr) },
        { ALT: () => this.SUBRULE(this.fixpointExpr) },
      ],
    });
  });

  nameOrCall = this.RULE("nameOrCall", () => {
    this.CONSUME(t.Identifier);
    this.OPTION({
      GATE: () => this.opensOnSameLine(),
      DEF: () => this.SUBRULE(this.argList),
    });
  });

  /** `(e)` or the tuple `(a, b)`. */
  parenExpr = this.RULE("parenExpr", () => {
    this.CONSUME(t.LParen);
    this.SUBRULE(this.expression);
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.expression);
    });
    this.CONSUME(t.RParen);
  });

  argList = this.RULE("argList", () => {
    this.CONSUME(t.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.arg);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.arg);
      });
    });
    this.CONSUME(t.RParen);
  });

  /** A positional argument, or a keyword argument `name = value`. */
  arg = this.RULE("arg", () => {
    this.OPTION(() => {
      this.CONSUME(t.Identifier);
      this.CONSUME(t.Equals);
    });
    this.SUBRULE(this.expression);
  });

  /** `aggregate R over edges (u -> v) [with self_loops] { let…; message }`. `edges` is matched as
   *  a name (and checked by the AST builder) so that programs may still call a variable `edges`. */
  aggregateExpr = this.RULE("aggregateExpr", () => {
    this.CONSUME(t.Aggregate);
    this.SUBRULE(this.reducer);
    this.CONSUME(t.Over);
    this.CONSUME(t.Identifier, { LABEL: "edges" });
    this.CONSUME(t.LParen);
    this.CONSUME2(t.Identifier, { LABEL: "src" });
    this.CONSUME(t.Arrow);
    this.CONSUME3(t.Identifier, { LABEL: "dst" });
    this.CONSUME(t.RParen);
    this.OPTION(() => {
      this.CONSUME(t.With);
      this.CONSUME(t.SelfLoops);
    });
    this.SUBRULE(this.exprBody);
  });

  /** `sum`, `mean`, `max` are not keywords (they are also functions), so the reducer is any name,
   *  optionally with a score argument, and the AST builder checks it. */
  reducer = this.RULE("reducer", () => {
    this.CONSUME(t.Identifier);
    this.OPTION(() => {
      this.CONSUME(t.LParen);
      this.SUBRULE(this.expression);
      this.CONSUME(t.RParen);
    });
  });

  /** `reversible groups C f(p = p) (h)` or `reversible groups C f (h)`: which list is which is
   *  decided by the AST builder from how many there are. */
  groupsExpr = this.RULE("groupsExpr", () => {
    this.CONSUME(t.Reversible);
    this.CONSUME(t.Groups);
    this.SUBRULE(this.dimTerm);
    this.CONSUME(t.Identifier);
    this.SUBRULE(this.argList);
    this.OPTION({
      GATE: () => this.opensOnSameLine(),
      DEF: () => this.SUBRULE2(this.argList),
    });
  });

  fixpointExpr = this.RULE("fixpointExpr", () => {
    this.CONSUME(t.Fixpoint);
    this.CONSUME(t.Identifier);
    this.CONSUME(t.From);
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.CONSUME(t.With);
      this.SUBRULE(this.arg);
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.arg);
      });
    });
    this.SUBRULE(this.exprBody);
  });

  /** The body of an aggregate or a fixpoint: `let` bindings, then the value. */
  exprBody = this.RULE("exprBody", () => {
    this.CONSUME(t.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.letStmt);
      this.OPTION(() => this.CONSUME(t.Semicolon));
    });
    this.SUBRULE(this.expression);
    this.CONSUME(t.RBrace);
  });
}

/** The one parser instance: performSelfAnalysis is slow, so it is built once and reused by
 *  setting `input`, which also resets its state. */
export const parser = new GnnParser();
