// The email connector folds a reply's quoted history into the body it stores: the customer's new
// text, a blank line, then every quoted line starting with `>` (crates/server/src/connectors/
// email/parse.rs, `fold_quoted`). The thread shows the new text and collapses that trailing run
// behind a toggle. This is the same cut as the server's `split_quoted`, so what the app hides is
// exactly what the connector marked.

/** A body split into the text shown and the folded quote ('' when there is none). */
export type QuotedBody = { fresh: string; quoted: string };

const QUOTE_MARK = '>';

export function splitQuoted(body: string): QuotedBody {
  const lines = body.split(/(?<=\n)/);
  let cut = body.length;
  let offset = body.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    offset -= line.length;
    if (line.trim() === '' || line.trimStart().startsWith(QUOTE_MARK)) {
      cut = offset;
    } else {
      break;
    }
  }
  const quoted = body.slice(cut).trim();
  if (quoted === '') return { fresh: body.trimEnd(), quoted: '' };
  return { fresh: body.slice(0, cut).trimEnd(), quoted };
}
