// The CodeMirror 6 editor: .gnn highlighting, and the checker's diagnostics as lint underlines
// whose tooltip gives the message and the hint.
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { gnnLanguage } from "./dsl-language.js";

export function createEditor(
  parent: HTMLElement,
  text: string,
  onChange: (text: string) => void,
): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        gnnLanguage,
        syntaxHighlighting(defaultHighlightStyle),
        lintGutter(),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
}

export function replaceText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/**
 * The compiler's diagnostics in `file` as editor underlines. A diagnostic located elsewhere (the
 * prelude) or nowhere is shown on the first character, with its message, so none is lost.
 */
export function showDiagnostics(
  view: EditorView,
  file: string,
  diags: readonly Diagnostic[],
): void {
  const length = view.state.doc.length;
  const lint: LintDiagnostic[] = diags.map((d) => {
    const here = d.span && d.span.file === file;
    const from = here ? Math.min(d.span!.start, length) : 0;
    const to = here ? Math.min(Math.max(d.span!.end, from + 1), length) : Math.min(1, length);
    const where = d.span ? `${d.span.file}:${d.span.line}:${d.span.col}: ` : "";
    return {
      from,
      to,
      severity: d.severity === "note" ? "info" : d.severity,
      message: `${here ? "" : where}${d.message}${d.hint ? `\nhint: ${d.hint}` : ""}`,
      source: "revgnn",
    };
  });
  view.dispatch(setDiagnostics(view.state, lint));
}
