using System.Diagnostics;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Transport;
using Hurd.Translators.Hosting;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd boot [MOUNTPOINT]</c> and <c>hurd halt [MOUNTPOINT]</c>: bring the system up (the auth server first,
/// published in the runtime directory; the root tmpfs translator on MOUNTPOINT; auth's filesystem as the active
/// translator of /servers/auth; hello as a passive translator on /hello, ext2fs on /disk) and take it all down again.
/// </summary>
public static class Boot
{
    /// <summary>Where the system boots by default.</summary>
    public const string DefaultMountPoint = "/mnt/hurd";

    /// <summary>The root filesystem's command line.</summary>
    public static readonly string[] RootTranslator = ["tmpfs", "50%"];

    public const string BootHelp = """
        Usage: hurd boot [MOUNTPOINT]
        Boot the system: start the auth server (published as `auth` in the runtime directory, where every
        translator finds it), mount the root tmpfs translator on MOUNTPOINT (default /mnt/hurd, created if
        missing), make auth's filesystem the active translator of /servers/auth, set hello as a passive translator
        on /hello and ext2fs (on a default disk image, made on first boot) on /disk, and show what runs where.
        Already booted: shows the table.

          -t, --timeout=SEC          wait at most SEC seconds for the root translator (default 60)
          -h, --help                 show this help

        `hurd halt [MOUNTPOINT]` takes it down again.

        """;

    public const string HaltHelp = """
        Usage: hurd halt [MOUNTPOINT]
        Take the system on MOUNTPOINT (default /mnt/hurd) down: every translator mounted on or under it
        goes away (the deepest first; each takes the translators started inside its tree with it), its
        mount is removed, its daemon ends. A translator that does not answer is killed. Leaves no mount,
        process or record behind. Halting nothing succeeds.

          -h, --help                 show this help

        """;

    /// <summary>hurd boot.</summary>
    public static int RunBoot(string[] args)
    {
        string? mnt = null;
        int timeout = 60;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help") { Console.Out.Write(BootHelp); return 0; }
            if (a is "-t" or "--timeout" && i + 1 < args.Length || a.StartsWith("--timeout=", StringComparison.Ordinal))
            {
                string v = a.StartsWith("--timeout=", StringComparison.Ordinal) ? a["--timeout=".Length..] : args[++i];
                if (!int.TryParse(v, out timeout) || timeout <= 0) throw new CommandFailed($"invalid timeout '{v}'", 2);
                continue;
            }
            if (a.StartsWith('-') || mnt is not null) throw new CommandFailed($"unexpected argument '{a}'\nTry 'hurd boot --help' for more information.", 2);
            mnt = a;
        }
        mnt = MountRecord.Normalize(mnt ?? DefaultMountPoint);
        var where = Located.Find(mnt);
        if (where.Kind == NodeKind.Inside)
            throw new CommandFailed($"{mnt}: inside the tree of the translator on {where.Record!.MountPoint}");
        if (where.IsActive)
        {
            Console.Out.WriteLine($"hurd boot: {mnt}: already running");
            PrintTable(mnt);
            return 0;
        }
        string authNode = AuthNodeOf(mnt);
        Daemons.ClearStale(authNode);
        Daemons.ClearStale(mnt);
        try { Directory.CreateDirectory(mnt); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new CommandFailed($"{mnt}: cannot create: {ex.Message}"); }

        // auth first: every translator started from here on finds it in the runtime directory.
        CheckNoOtherAuth();
        var auth = Daemons.Start(authNode, ["auth"], TimeSpan.FromSeconds(timeout), nodeOption: "--node=");
        try
        {
            Daemons.Start(mnt, RootTranslator, TimeSpan.FromSeconds(timeout));
            InstallAuth(mnt, auth);
            Settrans.Apply(new SettransOptions { Passive = true, Create = true, Node = mnt + "/hello", Translator = ["hello"] });
            string image = DiskImage();
            if (CheckDisk(image) is { } warning) Console.Error.WriteLine($"hurd boot: {image} {warning}");
            Settrans.Apply(new SettransOptions { Passive = true, Create = true, Node = mnt + "/disk", Translator = ["ext2fs", image] });
        }
        catch
        {
            Halt(mnt);
            throw;
        }
        PrintTable(mnt);
        return 0;
    }

    /// <summary>Where auth's filesystem sits in the booted tree.</summary>
    public static string AuthNodeOf(string mnt) => (mnt == "/" ? "" : mnt) + "/servers/auth";

    /// <summary>Fails when a live auth server already holds the name <c>auth</c> in the runtime directory (one
    /// auth server per runtime directory: the translators of both systems would find the same one).</summary>
    private static void CheckNoOtherAuth()
    {
        if (Bootstrap.Lookup("auth", out var other, 2000) != Errno.OK) return;
        other!.Dispose();
        var rec = MountRecord.All().FirstOrDefault(r => r.Argv is ["auth", ..] && Native.IsAlive(r.Pid));
        throw new CommandFailed(rec is not null
            ? $"an auth server already runs for the system on {rec.MountPoint[..^"/servers/auth".Length]} (pid {rec.Pid}); halt it first, or set HURD_RUNTIME_DIR"
            : $"an auth server already runs ({Bootstrap.PathOf("auth")}); stop it first, or set HURD_RUNTIME_DIR");
    }

    /// <summary>Makes the auth daemon's filesystem (its control port) the active translator of /servers/auth in the
    /// tree of the root translator on <paramref name="mnt"/> (file_set_translator with the port, as the Hurd's
    /// settrans -a passes a started translator's control port).</summary>
    private static void InstallAuth(string mnt, MountRecord auth)
    {
        string node = auth.MountPoint;
        var rootRecord = MountRecord.Load(mnt) ?? throw new CommandFailed($"{mnt}: the root translator has no record");
        using var root = Tree.Root(rootRecord, node);
        // Made over IPC, not through the mount: a directory the kernel looked up would stay cached as the plain
        // tmpfs directory for the bridge's entry timeout after the translator is set on it.
        var e = new FsClient(root) { TimeoutMs = Tree.CallTimeoutMs }.dir_mkdir("servers"u8, (FileMode)0x1ed);
        if (e is not (Errno.OK or Errno.EEXIST)) throw CommandFailed.On(mnt + "/servers", e, "cannot create");
        using (var servers = Tree.Lookup(root, "servers", OpenFlags.None, 0, mnt + "/servers"))
        {
            e = new FsClient(servers) { TimeoutMs = Tree.CallTimeoutMs }.dir_mkdir("auth"u8, (FileMode)0x1ed);
            if (e is not (Errno.OK or Errno.EEXIST)) throw CommandFailed.On(node, e, "cannot create");
        }
        using var port = Tree.Lookup(root, node[mnt.TrimEnd('/').Length..], OpenFlags.NoTrans, 0, node);
        using var control = Daemons.Control(auth, node);
        e = new FsClient(port) { TimeoutMs = Tree.CallTimeoutMs }.file_set_translator(0, TransFlags.Set, 0, Native.Argz(auth.Argv), control.Name);
        if (e != Errno.OK) throw CommandFailed.On(node, e, "cannot install the auth translator");
    }

    /// <summary>The default disk's size when boot creates it.</summary>
    public const long DefaultDiskBytes = 256L << 20;

    /// <summary>
    /// The ext2 image behind /disk: $HURD_DISK_IMAGE, else disk.img in $HURD_RUNTIME_DIR when that is set (tests),
    /// else /var/lib/hurd/disk.img (root) or ~/.local/share/hurd/disk.img. Made with our mkfs on first boot.
    /// </summary>
    public static string DiskImage()
    {
        string? image = Environment.GetEnvironmentVariable("HURD_DISK_IMAGE");
        if (string.IsNullOrEmpty(image))
        {
            string? rt = Environment.GetEnvironmentVariable("HURD_RUNTIME_DIR");
            image = !string.IsNullOrEmpty(rt) ? Path.Combine(rt, "disk.img")
                : Hurd.Ipc.Interop.Self.Uid == 0 ? "/var/lib/hurd/disk.img"
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "hurd", "disk.img");
        }
        image = Path.GetFullPath(image);
        if (File.Exists(image)) return image;
        Directory.CreateDirectory(Path.GetDirectoryName(image)!);
        Console.Out.WriteLine($"hurd boot: creating the default disk {image} ({DefaultDiskBytes >> 20} MiB, ext2)");
        var e = Hurd.Ext2.Mkfs.Create(image, DefaultDiskBytes, new Hurd.Ext2.MkfsOptions(), out var message);
        if (e != Hurd.Ipc.Abi.Errno.OK) throw new CommandFailed($"{image}: mkfs.ext2: {message}");
        return image;
    }

    /// <summary>What ext2fs will make of the disk image when /disk is first looked up, if not a plain writable mount:
    /// an image not marked clean (a daemon killed while it was writable, or in use elsewhere) or with errors recorded
    /// is served read-only, as the Hurd's ext2fs does, and the daemon only says so in its log. Null when clean.</summary>
    public static string? DiskWarning(string image)
    {
        var sb = new byte[1024];
        try
        {
            using var h = File.OpenHandle(image);
            if (RandomAccess.Read(h, sb, 1024) != sb.Length) return "is not an ext2 image (too short): /disk will not mount";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return $"cannot be read ({ex.Message}): /disk will not mount"; }
        var super = new Hurd.Ext2.Superblock(sb);
        if (super.Magic != Hurd.Ext2.Superblock.Ext2Magic) return "is not an ext2 image: /disk will not mount";
        string? why = (super.State & Hurd.Ext2.Superblock.StateError) != 0 ? "has errors recorded"
            : (super.State & Hurd.Ext2.Superblock.StateValid) == 0 ? NotClean + " (or is in use elsewhere)"
            : null;
        return why is null ? null : $"{why}: /disk will be read-only; repair it with e2fsck -fy {image} while the system is halted";
    }

    /// <summary>
    /// What a system's boot does with a filesystem not marked clean (the Hurd's /etc/rc, Debian's fsck at boot):
    /// `e2fsck -p` (preen: the fixes that need no decision), unless a process has the image open (a translator using it
    /// elsewhere: checking under it would damage it). Returns what to warn of, or null when the disk is clean now.
    /// </summary>
    public static string? CheckDisk(string image)
    {
        if (DiskWarning(image) is not { } warning) return null;
        if (!warning.StartsWith(NotClean, StringComparison.Ordinal)) return warning;
        if (OpenedBy(image) is { } pid) return $"{warning} (pid {pid} has it open)";
        var psi = new ProcessStartInfo("e2fsck") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(image);
        Process? p;
        try { p = Process.Start(psi); }
        catch (System.ComponentModel.Win32Exception) { return warning + " (e2fsck is not installed)"; }
        if (p is null) return warning;
        using (p)
        {
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(300_000)) { p.Kill(); return warning + " (e2fsck -p took over 5 minutes: stopped)"; }
            // 0: clean now, 1: errors corrected; anything else asks for a decision (e2fsck -fy).
            Console.Out.WriteLine($"hurd boot: {image} was not cleanly unmounted: checked with e2fsck -p (exit {p.ExitCode})");
            if ((p.ExitCode & ~1) != 0)
                return $"{warning} (e2fsck -p exit {p.ExitCode}: {(output + err.Result).Trim().Split('\n').LastOrDefault()})";
        }
        return DiskWarning(image);
    }

    const string NotClean = "was not cleanly unmounted";

    /// <summary>A process that has <paramref name="path"/> open (from /proc/PID/fd: all of them for root, one's own
    /// otherwise), or null.</summary>
    static int? OpenedBy(string path)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                    if (new FileInfo(fd).LinkTarget == path) return pid;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        return null;
    }

    /// <summary>hurd halt.</summary>
    public static int RunHalt(string[] args)
    {
        string? mnt = null;
        foreach (var a in args)
        {
            if (a is "-h" or "--help") { Console.Out.Write(HaltHelp); return 0; }
            if (a.StartsWith('-') || mnt is not null) throw new CommandFailed($"unexpected argument '{a}'\nTry 'hurd halt --help' for more information.", 2);
            mnt = a;
        }
        mnt = MountRecord.Normalize(mnt ?? DefaultMountPoint);
        int n = Halt(mnt);
        Console.Out.WriteLine(n == 0 ? $"hurd halt: {mnt}: nothing was running" : $"hurd halt: {mnt}: {n} translator{(n == 1 ? "" : "s")} stopped");
        return 0;
    }

    /// <summary>Takes down every translator mounted on or under <paramref name="mnt"/>, deepest first; returns how many ran.</summary>
    public static int Halt(string mnt)
    {
        static bool Under(string path, string mnt) => path == mnt || path.StartsWith(mnt == "/" ? "/" : mnt + "/", StringComparison.Ordinal);
        int stopped = 0;
        // The auth server goes last (it was started first; the others may still use it while they go).
        var records = MountRecord.All().Where(r => Under(r.MountPoint, mnt))
            .OrderBy(r => r.Argv is ["auth", ..] && r.MountPoint == AuthNodeOf(mnt) ? 1 : 0).ThenByDescending(r => r.MountPoint.Length).ToList();
        var errors = new List<string>();
        var wasAlive = records.Where(r => Native.IsAlive(r.Pid)).ToHashSet();
        foreach (var r in records)
        {
            bool alive = wasAlive.Contains(r);
            try
            {
                Daemons.GoAway(r.MountPoint, r, GoAwayFlags.Force | GoAwayFlags.Recurse, force: true);
                if (alive) stopped++;
            }
            catch (CommandFailed ex) { errors.Add(ex.Message); }
        }
        // FUSE mounts of dead translators without a record (deepest first).
        foreach (var m in MountInfo.Read().Where(m => Located.IsFuse(m) && Under(m.MountPoint, mnt) && MountRecord.Load(m.MountPoint) is null)
                     .Select(m => m.MountPoint).Distinct().OrderByDescending(p => p.Length))
        {
            try { Daemons.ClearStale(m); }
            catch (CommandFailed ex) { errors.Add(ex.Message); }
        }
        // A killed auth server leaves its published socket behind.
        if (records.Any(r => r.Argv is ["auth", ..]) && File.Exists(Bootstrap.PathOf("auth")))
        {
            if (Bootstrap.Lookup("auth", out var live, 2000) == Errno.OK) live!.Dispose();
            else try { File.Delete(Bootstrap.PathOf("auth")); } catch (IOException) { }
        }
        if (errors.Count > 0) throw new CommandFailed(string.Join("\n", errors));
        return stopped;
    }

    /// <summary>Prints what runs where on and under <paramref name="mnt"/>.</summary>
    public static void PrintTable(string mnt)
    {
        var rows = new List<string[]> { new[] { "NODE", "TRANSLATOR", "PID", "CONTROL PORT" } };
        foreach (var r in Daemons.Live().Where(r => r.MountPoint == mnt || r.MountPoint.StartsWith(mnt + "/", StringComparison.Ordinal)).OrderBy(r => r.MountPoint))
        {
            rows.Add([r.MountPoint, string.Join(' ', r.Argv), r.Pid.ToString(), r.Control]);
            // Translators set inside its tree (passive ones start on first lookup, inside the parent).
            if (r.MountPoint != mnt) continue;
            foreach (var child in new[] { "hello", "disk" })
            {
                string node = r.MountPoint + "/" + child;
                try
                {
                    if (Showtrans.Get(node) is { } argv) rows.Add([node, string.Join(' ', argv), "-", $"(passive: {r.Argv[0]} starts it on first lookup)"]);
                }
                catch (CommandFailed) { }
            }
        }
        int[] w = new int[4];
        foreach (var row in rows) for (int i = 0; i < 3; i++) w[i] = Math.Max(w[i], row[i].Length);
        foreach (var row in rows)
            Console.Out.WriteLine($"{row[0].PadRight(w[0])}  {row[1].PadRight(w[1])}  {row[2].PadRight(w[2])}  {row[3]}".TrimEnd());
    }
}
