// The one reading of a decimal number written by a user outside a .gnn file: a hyperparameter
// given with `--set K=V` and a numeric command-line option. Same syntax as the language's number
// literals, with an optional sign (the lexer reads a sign as an operator) and a leading-dot form.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number `text` spells (surrounding blanks ignored), or undefined when it is not one. */
export function parseDecimalText(text: string): number | undefined {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : undefined;
}
