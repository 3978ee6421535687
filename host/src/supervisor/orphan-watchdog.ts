import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog: a POSIX shell reading `+<pgid>` / `-<pgid>` lines on stdin, one per child process group that
 * starts and ends. When stdin closes (the host is gone, however it died) it SIGKILLs every group still listed.
 * It ignores the terminal's and a service manager's signals: it ends when the host's pipe does.
 */
const SCRIPT = `trap '' INT TERM HUP
groups=' '
while IFS= read -r line; do
  case $line in
    +*) groups="$groups\${line#+} " ;;
    -*) g=\${line#-}; rest=\${groups#* "$g" }; [ "$rest" != "$groups" ] && groups="\${groups%% "$g" *} $rest" ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
`;

/**
 * Kills the host's children when the host dies without stopping them. A child notices a lost IPC channel and
 * exits by itself, but only while its event loop turns: a child in a busy loop or SIGSTOPped never notices, and
 * nothing inside it can help (SIGSTOP stops every thread). So an agent outside the child does it: one `/bin/sh`
 * per host (about 1 MB of RSS), holding a pipe from the host, told each child's process group (every child is
 * the leader of its own). It reaches what stays in those groups; a grandchild that leaves its group (setsid,
 * `detached: true`) is out of its reach. Not on Windows (no process groups), nor without /bin/sh (distroless
 * images); if the shell dies, it is started again with the groups alive then.
 */
export class OrphanWatchdog {
  private process: ChildProcess | undefined;
  private readonly groups = new Set<number>();
  /** The shell cannot be started (no /bin/sh, as in distroless images): children rely on their own disconnect handling. */
  private unavailable = false;

  constructor(private readonly shell = '/bin/sh') {}

  /** The watchdog's pid, once one runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts watching the process group `pgid` (a child's pid). */
  watch(pgid: number): void {
    if (process.platform === 'win32' || this.unavailable) return;
    this.groups.add(pgid);
    this.send(`+${pgid}\n`);
  }

  /** The group is gone (the host killed what was left of it): no longer kill it later, its id may be reused. */
  unwatch(pgid: number): void {
    if (!this.groups.delete(pgid)) return;
    this.send(`-${pgid}\n`);
  }

  /** Closes the pipe as the host's death would: the watchdog kills the groups it was told and exits. */
  release(): void {
    this.process?.stdin?.end();
    this.process = undefined;
  }

  private send(line: string): void {
    if (!this.process) return this.start();
    this.process.stdin?.write(line);
  }

  private start(): void {
    const child = spawn(this.shell, ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.process = child;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EACCES') this.unavailable = true;
    });
    child.stdin?.on('error', () => {});
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    // Neither the process nor its pipe keeps the host alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    if (this.groups.size > 0) child.stdin?.write([...this.groups].map((pgid) => `+${pgid}\n`).join(''));
  }
}

/** The host's watchdog, shared by every ConnectorChild. */
export const orphanWatchdog = new OrphanWatchdog();
