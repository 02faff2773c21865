import type { CstNode, ICstVisitor, IToken } from "chevrotain";

export interface ProgramCstNode extends CstNode {
  name: "program";
  children: ProgramCstChildren;
}

export type ProgramCstChildren = {
  decl?: DeclCstNode[];
};

export interface DeclCstNode extends CstNode {
  name: "decl";
  children: DeclCstChildren;
}

export type DeclCstChildren = {
  layerDecl?: LayerDeclCstNode[];
  modelDecl?: ModelDeclCstNode[];
};

export interface LayerDeclCstNode extends CstNode {
  name: "layerDecl";
  children: LayerDeclCstChildren;
}

export type LayerDeclCstChildren = {
  Layer: IToken[];
  Identifier: IToken[];
  LParen: IToken[];
  signature: SignatureCstNode[];
  RParen: IToken[];
  Arrow?: IToken[];
  resultTypes?: ResultTypesCstNode[];
  Reversible?: IToken[];
  block: BlockCstNode[];
};

export interface ModelDeclCstNode extends CstNode {
  name: "modelDecl";
  children: ModelDeclCstChildren;
}

export type ModelDeclCstChildren = {
  Model: IToken[];
  Identifier: IToken[];
  LParen: IToken[];
  signature: SignatureCstNode[];
  RParen: IToken[];
  block: BlockCstNode[];
};

export interface SignatureCstNode extends CstNode {
  name: "signature";
  children: SignatureCstChildren;
}

export type SignatureCstChildren = {
  tensorArg?: (TensorArgCstNode)[];
  Comma?: (IToken)[];
  Semicolon?: IToken[];
  hyperArg?: (HyperArgCstNode)[];
};

export interface TensorArgCstNode extends CstNode {
  name: "tensorArg";
  children: TensorArgCstChildren;
}

export type TensorArgCstChildren = {
  Identifier: IToken[];
  Colon: IToken[];
  tensorType: TensorTypeCstNode[];
};

export interface HyperArgCstNode extends CstNode {
  name: "hyperArg";
  children: HyperArgCstChildren;
}

export type HyperArgCstChildren = {
  Identifier: IToken[];
  Colon: IToken[];
  Int?: IToken[];
  Float?: IToken[];
  Bool?: IToken[];
  Equals?: IToken[];
  literal?: LiteralCstNode[];
};

export interface LiteralCstNode extends CstNode {
  name: "literal";
  children: LiteralCstChildren;
}

export type LiteralCstChildren = {
  Minus?: IToken[];
  NumberLiteral?: IToken[];
  True?: IToken[];
  False?: IToken[];
};

export interface ResultTypesCstNode extends CstNode {
  name: "resultTypes";
  children: ResultTypesCstChildren;
}

export type ResultTypesCstChildren = {
  tensorType?: (TensorTypeCstNode)[];
  LParen?: IToken[];
  Comma?: IToken[];
  RParen?: IToken[];
};

export interface TensorTypeCstNode extends CstNode {
  name: "tensorType";
  children: TensorTypeCstChildren;
}

export type TensorTypeCstChildren = {
  Labels?: IToken[];
  Multilabels?: IToken[];
  LBracket: IToken[];
  dim: (DimCstNode)[];
  Comma?: IToken[];
  RBracket: IToken[];
};

export interface DimCstNode extends CstNode {
  name: "dim";
  children: DimCstChildren;
}

export type DimCstChildren = {
  dimProduct: (DimProductCstNode)[];
  AdditiveOp?: IToken[];
};

export interface DimProductCstNode extends CstNode {
  name: "dimProduct";
  children: DimProductCstChildren;
}

export type DimProductCstChildren = {
  dimTerm: (DimTermCstNode)[];
  DimMulOp?: IToken[];
};

export interface DimTermCstNode extends CstNode {
  name: "dimTerm";
  children: DimTermCstChildren;
}

export type DimTermCstChildren = {
  IntLiteral?: IToken[];
  Identifier?: IToken[];
  LParen?: IToken[];
  dim?: DimCstNode[];
  RParen?: IToken[];
};

export interface BlockCstNode extends CstNode {
  name: "block";
  children: BlockCstChildren;
}

export type BlockCstChildren = {
  LBrace: IToken[];
  stmt?: StmtCstNode[];
  Semicolon?: IToken[];
  RBrace: IToken[];
};

export interface StmtCstNode extends CstNode {
  name: "stmt";
  children: StmtCstChildren;
}

export type StmtCstChildren = {
  paramStmt?: ParamStmtCstNode[];
  letStmt?: LetStmtCstNode[];
  repeatStmt?: RepeatStmtCstNode[];
  returnStmt?: ReturnStmtCstNode[];
  lossStmt?: LossStmtCstNode[];
  outputStmt?: OutputStmtCstNode[];
  assignOrUpdateStmt?: AssignOrUpdateStmtCstNode[];
  tupleAssignStmt?: TupleAssignStmtCstNode[];
};

export interface ParamStmtCstNode extends CstNode {
  name: "paramStmt";
  children: ParamStmtCstChildren;
}

export type ParamStmtCstChildren = {
  Param?: IToken[];
  State?: IToken[];
  Identifier: IToken[];
  Colon: IToken[];
  tensorType: TensorTypeCstNode[];
  Equals: (IToken)[];
  init: IToken[];
  LParen?: IToken[];
  literal?: (LiteralCstNode)[];
  Comma?: (IToken)[];
  RParen?: IToken[];
  option?: IToken[];
  optionValue?: ExpressionCstNode[];
};

export interface LetStmtCstNode extends CstNode {
  name: "letStmt";
  children: LetStmtCstChildren;
}

export type LetStmtCstChildren = {
  Let?: IToken[];
  Var?: IToken[];
  pattern: PatternCstNode[];
  Equals?: IToken[];
  UpdateOp?: IToken[];
  expression: ExpressionCstNode[];
};

export interface AssignOrUpdateStmtCstNode extends CstNode {
  name: "assignOrUpdateStmt";
  children: AssignOrUpdateStmtCstChildren;
}

export type AssignOrUpdateStmtCstChildren = {
  Identifier: IToken[];
  Equals?: IToken[];
  UpdateOp?: IToken[];
  expression: ExpressionCstNode[];
};

export interface TupleAssignStmtCstNode extends CstNode {
  name: "tupleAssignStmt";
  children: TupleAssignStmtCstChildren;
}

export type TupleAssignStmtCstChildren = {
  tuplePattern: TuplePatternCstNode[];
  Equals: IToken[];
  expression: ExpressionCstNode[];
};

export interface PatternCstNode extends CstNode {
  name: "pattern";
  children: PatternCstChildren;
}

export type PatternCstChildren = {
  Identifier?: IToken[];
  tuplePattern?: TuplePatternCstNode[];
};

export interface TuplePatternCstNode extends CstNode {
  name: "tuplePattern";
  children: TuplePatternCstChildren;
}

export type TuplePatternCstChildren = {
  LParen: IToken[];
  Identifier: (IToken)[];
  Comma: IToken[];
  RParen: IToken[];
};

export interface RepeatStmtCstNode extends CstNode {
  name: "repeatStmt";
  children: RepeatStmtCstChildren;
}

export type RepeatStmtCstChildren = {
  Repeat: IToken[];
  dim: DimCstNode[];
  Shared?: IToken[];
  As?: IToken[];
  Identifier?: IToken[];
  block: BlockCstNode[];
};

export interface ReturnStmtCstNode extends CstNode {
  name: "returnStmt";
  children: ReturnStmtCstChildren;
}

export type ReturnStmtCstChildren = {
  Return: IToken[];
  expression: ExpressionCstNode[];
};

export interface LossStmtCstNode extends CstNode {
  name: "lossStmt";
  children: LossStmtCstChildren;
}

export type LossStmtCstChildren = {
  Loss: IToken[];
  expression: ExpressionCstNode[];
};

export interface OutputStmtCstNode extends CstNode {
  name: "outputStmt";
  children: OutputStmtCstChildren;
}

export type OutputStmtCstChildren = {
  Output: IToken[];
  expression: ExpressionCstNode[];
};

export interface ExpressionCstNode extends CstNode {
  name: "expression";
  children: ExpressionCstChildren;
}

export type ExpressionCstChildren = {
  multiplicativeExpr: (MultiplicativeExprCstNode)[];
  AdditiveOp?: IToken[];
};

export interface MultiplicativeExprCstNode extends CstNode {
  name: "multiplicativeExpr";
  children: MultiplicativeExprCstChildren;
}

export type MultiplicativeExprCstChildren = {
  unaryExpr: (UnaryExprCstNode)[];
  MultiplicativeOp?: IToken[];
};

export interface UnaryExprCstNode extends CstNode {
  name: "unaryExpr";
  children: UnaryExprCstChildren;
}

export type UnaryExprCstChildren = {
  Minus?: IToken[];
  unaryExpr?: UnaryExprCstNode[];
  postfixExpr?: PostfixExprCstNode[];
};

export interface PostfixExprCstNode extends CstNode {
  name: "postfixExpr";
  children: PostfixExprCstChildren;
}

export type PostfixExprCstChildren = {
  primary: PrimaryCstNode[];
  LBracket?: IToken[];
  Identifier?: IToken[];
  NumberLiteral?: IToken[];
  RBracket?: IToken[];
};

export interface PrimaryCstNode extends CstNode {
  name: "primary";
  children: PrimaryCstChildren;
}

export type PrimaryCstChildren = {
  NumberLiteral?: IToken[];
  nameOrCall?: NameOrCallCstNode[];
  parenExpr?: ParenExprCstNode[];
  aggregateExpr?: AggregateExprCstNode[];
  groupsExpr?: GroupsExprCstNode[];
  fixpointExpr?: FixpointExprCstNode[];
};

export interface NameOrCallCstNode extends CstNode {
  name: "nameOrCall";
  children: NameOrCallCstChildren;
}

export type NameOrCallCstChildren = {
  Identifier: IToken[];
  argList?: ArgListCstNode[];
};

export interface ParenExprCstNode extends CstNode {
  name: "parenExpr";
  children: ParenExprCstChildren;
}

export type ParenExprCstChildren = {
  LParen: IToken[];
  expression: (ExpressionCstNode)[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ArgListCstNode extends CstNode {
  name: "argList";
  children: ArgListCstChildren;
}

export type ArgListCstChildren = {
  LParen: IToken[];
  arg?: (ArgCstNode)[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ArgCstNode extends CstNode {
  name: "arg";
  children: ArgCstChildren;
}

export type ArgCstChildren = {
  Identifier?: IToken[];
  Equals?: IToken[];
  expression: ExpressionCstNode[];
};

export interface AggregateExprCstNode extends CstNode {
  name: "aggregateExpr";
  children: AggregateExprCstChildren;
}

export type AggregateExprCstChildren = {
  Aggregate: IToken[];
  reducer: ReducerCstNode[];
  Over: IToken[];
  edges: IToken[];
  LParen: IToken[];
  src: IToken[];
  Arrow: IToken[];
  dst: IToken[];
  RParen: IToken[];
  With?: IToken[];
  SelfLoops?: IToken[];
  exprBody: ExprBodyCstNode[];
};

export interface ReducerCstNode extends CstNode {
  name: "reducer";
  children: ReducerCstChildren;
}

export type ReducerCstChildren = {
  Identifier: IToken[];
  LParen?: IToken[];
  expression?: ExpressionCstNode[];
  RParen?: IToken[];
};

export interface GroupsExprCstNode extends CstNode {
  name: "groupsExpr";
  children: GroupsExprCstChildren;
}

export type GroupsExprCstChildren = {
  Reversible: IToken[];
  Groups: IToken[];
  dimTerm: DimTermCstNode[];
  Identifier: IToken[];
  argList: (ArgListCstNode)[];
};

export interface FixpointExprCstNode extends CstNode {
  name: "fixpointExpr";
  children: FixpointExprCstChildren;
}

export type FixpointExprCstChildren = {
  Fixpoint: IToken[];
  Identifier: IToken[];
  From: IToken[];
  expression: ExpressionCstNode[];
  With?: IToken[];
  arg?: (ArgCstNode)[];
  Comma?: IToken[];
  exprBody: ExprBodyCstNode[];
};

export interface ExprBodyCstNode extends CstNode {
  name: "exprBody";
  children: ExprBodyCstChildren;
}

export type ExprBodyCstChildren = {
  LBrace: IToken[];
  letStmt?: LetStmtCstNode[];
  Semicolon?: IToken[];
  expression: ExpressionCstNode[];
  RBrace: IToken[];
};

export interface ICstNodeVisitor<IN, OUT> extends ICstVisitor<IN, OUT> {
  program(children: ProgramCstChildren, param?: IN): OUT;
  decl(children: DeclCstChildren, param?: IN): OUT;
  layerDecl(children: LayerDeclCstChildren, param?: IN): OUT;
  modelDecl(children: ModelDeclCstChildren, param?: IN): OUT;
  signature(children: SignatureCstChildren, param?: IN): OUT;
  tensorArg(children: TensorArgCstChildren, param?: IN): OUT;
  hyperArg(children: HyperArgCstChildren, param?: IN): OUT;
  literal(children: LiteralCstChildren, param?: IN): OUT;
  resultTypes(children: ResultTypesCstChildren, param?: IN): OUT;
  tensorType(children: TensorTypeCstChildren, param?: IN): OUT;
  dim(children: DimCstChildren, param?: IN): OUT;
  dimProduct(children: DimProductCstChildren, param?: IN): OUT;
  dimTerm(children: DimTermCstChildren, param?: IN): OUT;
  block(children: BlockCstChildren, param?: IN): OUT;
  stmt(children: StmtCstChildren, param?: IN): OUT;
  paramStmt(children: ParamStmtCstChildren, param?: IN): OUT;
  letStmt(children: LetStmtCstChildren, param?: IN): OUT;
  assignOrUpdateStmt(children: AssignOrUpdateStmtCstChildren, param?: IN): OUT;
  tupleAssignStmt(children: TupleAssignStmtCstChildren, param?: IN): OUT;
  pattern(children: PatternCstChildren, param?: IN): OUT;
  tuplePattern(children: TuplePatternCstChildren, param?: IN): OUT;
  repeatStmt(children: RepeatStmtCstChildren, param?: IN): OUT;
  returnStmt(children: ReturnStmtCstChildren, param?: IN): OUT;
  lossStmt(children: LossStmtCstChildren, param?: IN): OUT;
  outputStmt(children: OutputStmtCstChildren, param?: IN): OUT;
  expression(children: ExpressionCstChildren, param?: IN): OUT;
  multiplicativeExpr(children: MultiplicativeExprCstChildren, param?: IN): OUT;
  unaryExpr(children: UnaryExprCstChildren, param?: IN): OUT;
  postfixExpr(children: PostfixExprCstChildren, param?: IN): OUT;
  primary(children: PrimaryCstChildren, param?: IN): OUT;
  nameOrCall(children: NameOrCallCstChildren, param?: IN): OUT;
  parenExpr(children: ParenExprCstChildren, param?: IN): OUT;
  argList(children: ArgListCstChildren, param?: IN): OUT;
  arg(children: ArgCstChildren, param?: IN): OUT;
  aggregateExpr(children: AggregateExprCstChildren, param?: IN): OUT;
  reducer(children: ReducerCstChildren, param?: IN): OUT;
  groupsExpr(children: GroupsExprCstChildren, param?: IN): OUT;
  fixpointExpr(children: FixpointExprCstChildren, param?: IN): OUT;
  exprBody(children: ExprBodyCstChildren, param?: IN): OUT;
}
