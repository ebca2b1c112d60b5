// `bpf-sockops lsp`: the language server on stdin/stdout, for editors other than VS Code (Neovim,
// Helix, Emacs, Zed). The same server the extension runs; see the README for editor configs.
export async function lspCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stderr.write('usage: bpf-sockops lsp [--stdio] [--profile NAME]\n' +
      '  Speaks the Language Server Protocol on stdin/stdout: op-aware diagnostics, hover, completion,\n' +
      '  signature help, quick fixes, symbols, definition and references for BPF sock_ops C files.\n' +
      '  --profile NAME   kernel profile (autolowat-sockops-v3 or linux-7.1.5); the initialization\n' +
      '                   option "profile" overrides it.\n');
    return 0;
  }
  // The server reads its transport from the command line (vscode-languageserver's createConnection).
  if (!process.argv.includes('--stdio')) process.argv.push('--stdio');
  const p = args.indexOf('--profile');
  if (p >= 0 && args[p + 1]) process.env.BPF_SOCKOPS_PROFILE = args[p + 1];
  // stdout carries the protocol: anything else printed there would corrupt it
  console.log = console.error;
  console.info = console.error;
  await import('../server/main');
  // The connection keeps the process alive; the client's `exit` notification ends it.
  return new Promise<number>(() => undefined);
}
