import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { OrphanWatchdog } from '../../src/supervisor/orphan-watchdog.js';

const WAIT = { timeout: 10_000, interval: 20 };

/** Exited (a zombie counts: whoever adopted it may never reap it). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return /\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** A process group like a connector child's: `sh` as its leader with a `sleep` of its own in the group. */
function group(): { leader: number; member: () => number | undefined } {
  const child = spawn('/bin/sh', ['-c', 'sleep 1000 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  let member: number | undefined;
  child.stdout.on('data', (chunk: Buffer) => (member = Number(chunk.toString().trim())));
  onTestFinished(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Gone already.
    }
  });
  return { leader: child.pid as number, member: () => member };
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

// POSIX only: the watchdog is a /bin/sh process killing process groups, which Windows does not have.
describe.skipIf(process.platform === 'win32')('OrphanWatchdog', () => {
  it('kills every watched group, members included, when the host pipe closes; not the unwatched ones; costs a few MB', async () => {
    const watchdog = new OrphanWatchdog();
    const watched = group();
    const unwatched = group();
    watchdog.watch(watched.leader);
    watchdog.watch(unwatched.leader);
    watchdog.unwatch(unwatched.leader);
    const members = await vi.waitFor(() => {
      const all = [watched.member(), unwatched.member()];
      expect(all.every((pid) => pid !== undefined)).toBe(true);
      return all as number[];
    }, WAIT);
    const pid = watchdog.pid as number;
    const rss = rssKb(pid);
    expect(rss, `watchdog RSS ${rss} kB`).toBeLessThan(8 * 1024);
    watchdog.release();
    await vi.waitFor(() => {
      expect(gone(pid)).toBe(true);
      expect(gone(watched.leader)).toBe(true);
      expect(gone(members[0] as number)).toBe(true);
    }, WAIT);
    expect(gone(unwatched.leader)).toBe(false);
    expect(gone(members[1] as number)).toBe(false);
  });

  it('without a shell (no /bin/sh) it gives up quietly: watching goes on without it', async () => {
    const watchdog = new OrphanWatchdog('/nonexistent/sh');
    const watched = group();
    watchdog.watch(watched.leader);
    await vi.waitFor(() => expect(watchdog.pid).toBeUndefined(), WAIT);
    watchdog.watch(watched.leader);
    watchdog.unwatch(watched.leader);
    watchdog.release();
    expect(gone(watched.leader)).toBe(false);
  });
});
