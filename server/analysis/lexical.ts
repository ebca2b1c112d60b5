// Lexical steps over C text shared by the macro masking (parser.ts) and the top-level partition
// (partition.ts), so that both read literals and preprocessor lines the same way.

/** Index of the closing quote of the string or character literal opening at `i`, or of the line
 *  end that ends an unterminated one (the text's length if neither comes). Backslash escapes skip. */
export function skipQuoted(t: string, i: number): number {
  const q = t.charCodeAt(i);
  for (let j = i + 1; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c === 92) j++;
    else if (c === q || c === 10) return j;
  }
  return t.length;
}

/** Index of the newline ending the preprocessor line that starts at `i`, backslash continuations
 *  included (the text's length if none). */
export function preprocEnd(t: string, i: number): number {
  const n = t.length;
  while (i < n && !(t.charCodeAt(i) === 10 && t.charCodeAt(i - 1) !== 92)) i++;
  return i;
}
