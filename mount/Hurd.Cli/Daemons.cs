using System.Diagnostics;
using Hurd.Fuse;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;
using Hurd.Translators.Hosting;

namespace Hurd.Cli;

/// <summary>
/// Translator daemons mounted on Linux nodes: starting one (detached, in its own session, its output in
/// <c>&lt;RuntimeDirectory&gt;/logs/</c>), making one go away over its control port (fsys_goaway), forcing a
/// hung or dead one away (abort the FUSE connection, SIGKILL, lazy unmount), and clearing what a dead
/// one left behind (its mount, its record, its control socket).
/// </summary>
public static class Daemons
{
    /// <summary>How long a daemon has to answer the control port and fsys_goaway (the hang deadline).</summary>
    public static TimeSpan AnswerDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a daemon that agreed to go away has to exit.</summary>
    public static TimeSpan ExitDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The directory of the daemons' logs.</summary>
    public static string LogDirectory => Path.Combine(Bootstrap.RuntimeDirectory, "logs");

    /// <summary>The log file of the daemon mounted at <paramref name="mountPoint"/>.</summary>
    public static string LogOf(string mountPoint) => Path.Combine(LogDirectory, MountRecord.KeyOf(mountPoint) + ".log");

    /// <summary>Every record whose daemon runs.</summary>
    public static List<MountRecord> Live() => MountRecord.All().Where(r => Native.IsAlive(r.Pid)).ToList();

    /// <summary>
    /// Starts translator <paramref name="argv"/> (argv[0] a translator name or path) mounted on
    /// <paramref name="mountPoint"/> (given to it as <paramref name="nodeOption"/> followed by the path: a FUSE
    /// mount with the default), and waits up to <paramref name="timeout"/> for its mount record
    /// (the sign that it serves). If the daemon exits first, fails with the tail of its log.
    /// </summary>
    public static MountRecord Start(string mountPoint, string[] argv, TimeSpan timeout, string nodeOption = "--mount=")
    {
        var cmd = Resolve(argv[0]);
        Directory.CreateDirectory(LogDirectory);
        string log = LogOf(mountPoint);
        // sh execs setsid, which execs the daemon: the pid we get is the daemon's.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in (string[])["-c", "log=$1; shift; exec setsid \"$@\" </dev/null >\"$log\" 2>&1", "sh", log, .. cmd, .. argv[1..], nodeOption + mountPoint])
            psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi) ?? throw new CommandFailed($"{argv[0]}: cannot start"); }
        catch (System.ComponentModel.Win32Exception ex) { throw new CommandFailed($"{argv[0]}: cannot start: {ex.Message}"); }
        using (p)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                if (MountRecord.Load(mountPoint) is { } r && r.Pid == p.Id) return r;
                if (p.WaitForExit(50))
                {
                    if (MountRecord.Load(mountPoint) is { } r2 && r2.Pid == p.Id) return r2;
                    throw new CommandFailed($"{mountPoint}: translator {argv[0]} exited (status {p.ExitCode}){LogTail(log)}");
                }
                if (DateTime.UtcNow > deadline)
                {
                    Native.Kill(p.Id, Native.SIGKILL);
                    p.WaitForExit(5000);
                    ClearStale(mountPoint);
                    throw new CommandFailed($"{mountPoint}: translator {argv[0]} did not start within {timeout.TotalSeconds:0} s{LogTail(log)}");
                }
            }
        }
    }

    /// <summary>The command that runs translator <paramref name="name"/>; fails naming the built ones.</summary>
    public static string[] Resolve(string name)
    {
        var cmd = TranslatorPaths.Resolve(name);
        if (cmd is not null) return cmd;
        var known = TranslatorPaths.Known().Distinct().Order().ToList();
        throw new CommandFailed($"{name}: no such translator{(known.Count > 0 ? $" (built: {string.Join(", ", known)})" : "; run ./setup first")}");
    }

    /// <summary>The last lines of a log, as ":\n  line..." for an error message ("" if empty).</summary>
    public static string LogTail(string log, int lines = 8)
    {
        try
        {
            var all = File.ReadAllLines(log).Where(l => l.Trim().Length > 0).ToArray();
            if (all.Length == 0) return $" (log: {log})";
            return ":\n  " + string.Join("\n  ", all[Math.Max(0, all.Length - lines)..]) + $"\n(log: {log})";
        }
        catch (IOException) { return ""; }
    }

    /// <summary>
    /// Makes the translator mounted at <paramref name="mountPoint"/> go away: fsys_goaway(<paramref name="flags"/>)
    /// on its control port, then waits for the daemon to exit and makes sure the mount is gone. A daemon that
    /// does not answer within <see cref="AnswerDeadline"/> (stopped, hung) or does not exit: with
    /// <paramref name="force"/> it is killed (its FUSE connection aborted first, so users are released) and the
    /// mount detached; without, the call fails and says so. A dead daemon's leftovers are always cleared.
    /// </summary>
    public static void GoAway(string mountPoint, MountRecord? record, GoAwayFlags flags, bool force)
    {
        if (force) flags |= GoAwayFlags.Force;
        if (record is not null && Native.IsAlive(record.Pid))
        {
            var e = Lookup(record.Control, out var control);
            if (e == Errno.OK)
            {
                using (control)
                {
                    control!.Timeout = AnswerDeadline;
                    e = new FsysClient(control) { TimeoutMs = (int)AnswerDeadline.TotalMilliseconds }.fsys_goaway(flags);
                }
            }
            if (e is Errno.OK or Errno.EDIED)
            {
                if (!Native.WaitGone(record.Pid, ExitDeadline))
                {
                    if (!force)
                        throw new CommandFailed($"{mountPoint}: the translator (pid {record.Pid}) agreed to go away but did not exit; use -f to force it");
                    Kill(mountPoint, record.Pid);
                }
            }
            else if (!Native.IsAlive(record.Pid))
            {
                // It died while we asked: clear below.
            }
            else if (!force)
            {
                string why = e is Errno.ETIMEDOUT or Errno.ECONNREFUSED or Errno.ENOENT || Native.IsStopped(record.Pid)
                    ? $"the translator (pid {record.Pid}) does not answer ({CommandFailed.Describe(e)}); use -f to force it away"
                    : CommandFailed.Describe(e);
                throw new CommandFailed($"{mountPoint}: {why}");
            }
            else Kill(mountPoint, record.Pid);
        }
        ClearStale(mountPoint);
    }

    /// <summary>Aborts the FUSE connection at <paramref name="mountPoint"/> (releasing blocked users), then SIGKILLs <paramref name="pid"/>.</summary>
    private static void Kill(string mountPoint, int pid)
    {
        if (MountInfo.At(mountPoint) is { } m && Located.IsFuse(m)) FuseSession.AbortConnection(mountPoint);
        Native.Kill(pid, Native.SIGKILL);
        if (!Native.WaitGone(pid, ExitDeadline))
            throw new CommandFailed($"{mountPoint}: the translator (pid {pid}) survives SIGKILL");
    }

    /// <summary>
    /// Clears what a dead daemon left at <paramref name="mountPoint"/>: its FUSE mount (unmounted, lazily if
    /// busy: users of a dead mount get ENOTCONN until they let go), its record and its control socket.
    /// Does nothing while the record's daemon lives.
    /// </summary>
    public static void ClearStale(string mountPoint)
    {
        var record = MountRecord.Load(mountPoint);
        if (record is not null && Native.IsAlive(record.Pid)) return;
        for (int i = 0; i < 8 && MountInfo.At(mountPoint) is { } m && Located.IsFuse(m); i++)
        {
            var e = FuseSession.UnmountPath(mountPoint, lazy: false);
            if (e != Errno.OK) throw CommandFailed.On(mountPoint, e, "cannot unmount");
        }
        if (record is not null)
        {
            try { File.Delete(MountRecord.PathOf(mountPoint)); } catch (IOException) { }
            try
            {
                string sock = Bootstrap.PathOf(record.Control);
                if (File.Exists(sock)) File.Delete(sock);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException) { }
        }
    }

    private static readonly Dictionary<string, SendRight> Connected = new();

    /// <summary>
    /// Bootstrap.Lookup of a control port, once per process: later lookups of the same name get a copy of the
    /// first right (a second connection to the same daemon from one process is refused by the IPC core's
    /// connection merge once the first one's rights are gone).
    /// </summary>
    private static Errno Lookup(string name, out SendRight? right)
    {
        lock (Connected)
        {
            if (Connected.TryGetValue(name, out var cached) && !cached.IsDead)
            {
                right = cached.Copy();
                return Errno.OK;
            }
            var e = Bootstrap.Lookup(name, out right, (int)AnswerDeadline.TotalMilliseconds);
            if (e == Errno.OK) Connected[name] = right!.Copy();
            return e;
        }
    }

    /// <summary>Opens the control port of a live daemon (fails with a message naming <paramref name="node"/>).</summary>
    public static SendRight Control(MountRecord record, string node)
    {
        var e = Lookup(record.Control, out var control);
        if (e != Errno.OK)
            throw CommandFailed.On(node, e, e is Errno.ETIMEDOUT ? $"the translator (pid {record.Pid}) does not answer" : "cannot reach the translator's control port");
        control!.Timeout = TimeSpan.FromSeconds(30);
        return control;
    }
}
