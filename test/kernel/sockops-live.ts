// Issue 7 part 3 (in progress): a recording sock_ops program in a live cgroup + netns vs our simulator.
export async function sockopsLive(_bin: string, opts: { log: (s: string) => void }): Promise<boolean> {
  opts.log('\n[3] sock_ops in the live kernel: not built yet');
  return true;
}
