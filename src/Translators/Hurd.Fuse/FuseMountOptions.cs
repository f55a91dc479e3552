using System.Text;

namespace Hurd.Fuse;

/// <summary>
/// How to mount and serve: the ordinary FUSE daemon command line (<c>[SOURCE] MOUNTPOINT [-o opt,opt...] [-f] [-d] [-s]</c>,
/// as <c>mount.fuse3</c> runs a daemon for an <c>/etc/fstab</c> line of type <c>fuse.NAME</c>) parsed by
/// <see cref="TryParse"/>, or set in code.
/// </summary>
/// <remarks>
/// Options the kernel or this layer knows are consumed: <c>allow_other</c>, <c>default_permissions</c>,
/// <c>ro</c>/<c>rw</c>, <c>suid</c>/<c>nosuid</c>, <c>dev</c>/<c>nodev</c>, <c>exec</c>/<c>noexec</c>,
/// <c>atime</c>/<c>noatime</c>/<c>relatime</c>/<c>strictatime</c>/<c>nodiratime</c>, <c>sync</c>/<c>async</c>,
/// <c>dirsync</c>, <c>fsname=</c>, <c>subtype=</c>, <c>max_read=</c>, <c>max_write=</c>, <c>threads=</c>,
/// and the accepted-but-implied <c>clone_fd</c>, <c>auto_unmount</c>, <c>user_id=</c>, <c>group_id=</c>,
/// <c>rootmode=</c>, <c>fd=</c>, <c>blksize=</c>, <c>nonempty</c>, <c>_netdev</c>, <c>nofail</c>, <c>user</c>, <c>users</c>, <c>auto</c>, <c>noauto</c>, <c>defaults</c>.
/// Anything else is kept, in order, in <see cref="Extra"/> for the filesystem (a translator's own options).
/// </remarks>
public sealed class FuseMountOptions
{
    /// <summary>The directory to mount on.</summary>
    public string MountPoint { get; set; } = "";
    /// <summary>The mount's source as /proc/mounts shows it (fsname=); default: the subtype.</summary>
    public string? FsName { get; set; }
    /// <summary>The filesystem type is <c>fuse.</c> + this (subtype=).</summary>
    public string Subtype { get; set; } = "hurd";
    /// <summary>Let every user of the machine in (allow_other); the filesystem decides permissions. Default true, as on the Hurd.
    /// Through fusermount3 it is asked for only if root or /etc/fuse.conf says user_allow_other (<see cref="UserAllowOther"/>).</summary>
    public bool AllowOther { get; set; } = true;
    /// <summary>Let the kernel check permissions from mode/uid/gid (default_permissions); no ACCESS requests then.</summary>
    public bool DefaultPermissions { get; set; }
    /// <summary>Read-only mount.</summary>
    public bool ReadOnly { get; set; }
    /// <summary>Ignore suid/sgid bits (default true, as libfuse).</summary>
    public bool NoSuid { get; set; } = true;
    /// <summary>No device files (default true, as libfuse).</summary>
    public bool NoDev { get; set; } = true;
    /// <summary>No execution.</summary>
    public bool NoExec { get; set; }
    /// <summary>Extra mount(2) flags (MS_NOATIME and the like) from the options.</summary>
    public int ExtraMountFlags { get; set; }
    /// <summary>max_read= for the kernel (0: unset).</summary>
    public uint MaxRead { get; set; }
    /// <summary>Number of reader threads, each with its own cloned descriptor (default min(processors, 4)).</summary>
    /// <remarks>
    /// The kernel hands requests to waiting readers in turn, so with several readers a single sequential client pays a
    /// cross-thread (often cross-CPU) wakeup per request (about 1.5 µs a round trip measured here). With one reader a
    /// handler that blocks stalls every other request, and an INTERRUPT for it cannot even be read while it blocks: a
    /// filesystem whose handlers wait (on IPC, on <see cref="FuseContext.Cancellation"/>) needs two or more.
    /// </remarks>
    public int Readers { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 4);
    /// <summary>
    /// Serve requests through FUSE over io_uring (Linux 6.14+, when the fuse module's <c>enable_uring</c> parameter is
    /// set; otherwise ignored): one queue per CPU, served by a thread bound to that CPU, so a request is answered on the
    /// CPU of the client that made it (see <see cref="FuseUring"/>). FORGET and INTERRUPT still come through the readers.
    /// A handler that blocks holds up its CPU's queue, so this suits filesystems whose handlers do not wait on others.
    /// </summary>
    public bool IoUring { get; set; }
    /// <summary>
    /// Run the io_uring queue threads under SCHED_IDLE while the machine has idle CPU (default true;
    /// <c>-o nouring_idle</c> keeps them at normal priority). The kernel wakes a task on an idle CPU rather than on a
    /// busy one, and a CPU running only SCHED_IDLE threads counts as idle: a queue thread's answer then wakes its client
    /// on this same CPU instead of on another, halted one (on a VM whose idle vCPUs halt, that wake-up is most of a
    /// round trip: a 4 KiB O_DIRECT read 37 -> 18 µs here). When the machine is busy, SCHED_IDLE would leave requests
    /// waiting behind other work, so the threads go back to normal priority (<see cref="RingPlacement"/>).
    /// </summary>
    public bool IoUringIdle { get; set; } = true;
    /// <summary>
    /// The mount's readahead window in KiB, set after INIT when running as root (default 4096; 0 leaves the kernel's
    /// 128 KiB). Buffered sequential reads then reach the filesystem as READs of max_pages (1 MiB) instead of 128 KiB.
    /// </summary>
    public int ReadAheadKb { get; set; } = 4096;
    /// <summary>Stay in the foreground (-f). This layer never forks; a host that daemonises honours it.</summary>
    public bool Foreground { get; set; }
    /// <summary>Debug output (-d, implies -f).</summary>
    public bool Debug { get; set; }
    /// <summary>Single-threaded (-s): one reader.</summary>
    public bool SingleThreaded { get; set; }
    /// <summary>-h / --help was given: print <see cref="Help"/> (and the program's own options) and exit 0; the mount point may be missing.</summary>
    public bool ShowHelp { get; set; }
    /// <summary>-V / --version was given.</summary>
    public bool ShowVersion { get; set; }
    /// <summary>Mount through fusermount3 (SCM_RIGHTS) rather than mount(2); null: only when not root.</summary>
    public bool? UseFusermount { get; set; }
    /// <summary>Positional arguments before the mount point (mount.fuse3 passes the fstab source first).</summary>
    public List<string> Positional { get; } = [];
    /// <summary>-o options this layer does not know, in order, for the filesystem.</summary>
    public List<string> Extra { get; } = [];
    /// <summary>What to negotiate at INIT.</summary>
    public FuseConnection Connection { get; set; } = new();

    /// <summary>The fstab source, if one came before the mount point.</summary>
    public string? Source => Positional.Count > 0 ? Positional[0] : null;

    /// <summary>
    /// Parses a FUSE daemon command line. The last positional argument is the mount point; earlier ones go to
    /// <see cref="Positional"/>. Arguments after <c>--</c> are positional.
    /// </summary>
    /// <returns>False with a message (for the user, as a shell command prints it) if the line is wrong.</returns>
    public static bool TryParse(IReadOnlyList<string> args, out FuseMountOptions options, out string? error)
    {
        options = new FuseMountOptions();
        error = null;
        var positional = new List<string>();
        bool dashdash = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (dashdash || a.Length < 2 || a[0] != '-') { positional.Add(a); continue; }
            switch (a)
            {
                case "--": dashdash = true; continue;
                case "-f": options.Foreground = true; continue;
                case "-d": case "--debug": options.Debug = true; options.Foreground = true; continue;
                case "-s": options.SingleThreaded = true; options.Readers = 1; continue;
                case "-h": case "--help": options.ShowHelp = true; continue;
                case "-V": case "--version": options.ShowVersion = true; continue;
                case "-o":
                    if (i + 1 >= args.Count) { error = "option '-o' requires an argument"; return false; }
                    if (!options.ApplyOptions(args[++i], out error)) return false;
                    continue;
            }
            if (a.StartsWith("-o", StringComparison.Ordinal))
            {
                if (!options.ApplyOptions(a.Substring(2), out error)) return false;
                continue;
            }
            error = $"unknown option '{a}'";
            return false;
        }
        if (positional.Count == 0)
        {
            if (options.ShowHelp || options.ShowVersion) return true;
            error = "missing mount point";
            return false;
        }
        options.MountPoint = positional[^1];
        options.Positional.AddRange(positional.Take(positional.Count - 1));
        return true;
    }

    /// <summary>The standard options, for a daemon's --help (after its own usage line).</summary>
    public const string Help =
        "FUSE options:\n" +
        "    -h   --help             print help\n" +
        "    -V   --version          print version\n" +
        "    -d   -o debug           debug output (implies -f)\n" +
        "    -f                      stay in the foreground\n" +
        "    -s                      one reader thread\n" +
        "    -o allow_other          let every user in (the default; the filesystem checks permissions)\n" +
        "    -o default_permissions  let the kernel check permissions from mode, uid and gid\n" +
        "    -o ro|rw, [no]suid, [no]dev, [no]exec, noatime, relatime, sync, dirsync\n" +
        "    -o fsname=NAME          the source shown in /proc/mounts\n" +
        "    -o subtype=NAME         the type is fuse.NAME\n" +
        "    -o max_read=N, max_write=N, threads=N\n" +
        "    -o io_uring             requests through io_uring, one queue per CPU (fuse enable_uring=Y)\n" +
        "    -o nouring_idle         io_uring queue threads at normal priority instead of SCHED_IDLE\n" +
        "    -o nodirect_io_writeonly  write-only opens through the page cache too (default: direct I/O)\n" +
        "    -o readahead_kb=N       readahead window of the mount, as root (default 4096; 0: the kernel's)\n";

    /// <summary>Applies a comma-separated option list (the argument of -o). Commas may be escaped with a backslash.</summary>
    public bool ApplyOptions(string list, out string? error)
    {
        error = null;
        foreach (string opt in SplitOptions(list))
        {
            if (opt.Length == 0) continue;
            int eq = opt.IndexOf('=');
            string key = eq < 0 ? opt : opt.Substring(0, eq);
            string? val = eq < 0 ? null : opt.Substring(eq + 1);
            switch (key)
            {
                case "allow_other": AllowOther = true; break;
                case "debug": Debug = true; Foreground = true; break;
                case "default_permissions": DefaultPermissions = true; break;
                case "ro": ReadOnly = true; break;
                case "rw": ReadOnly = false; break;
                case "suid": NoSuid = false; break;
                case "nosuid": NoSuid = true; break;
                case "dev": NoDev = false; break;
                case "nodev": NoDev = true; break;
                case "exec": NoExec = false; break;
                case "noexec": NoExec = true; break;
                case "noatime": ExtraMountFlags |= Interop.FuseLibc.MS_NOATIME; break;
                case "nodiratime": ExtraMountFlags |= Interop.FuseLibc.MS_NODIRATIME; break;
                case "relatime": ExtraMountFlags |= Interop.FuseLibc.MS_RELATIME; break;
                case "strictatime": ExtraMountFlags |= Interop.FuseLibc.MS_STRICTATIME; break;
                case "sync": ExtraMountFlags |= Interop.FuseLibc.MS_SYNCHRONOUS; break;
                case "dirsync": ExtraMountFlags |= Interop.FuseLibc.MS_DIRSYNC; break;
                case "atime": case "async": case "clone_fd": case "auto_unmount": case "nonempty": case "_netdev":
                case "nofail": case "user": case "users": case "auto": case "noauto": case "defaults":
                case "user_id": case "group_id": case "rootmode": case "fd": case "blksize":
                    break;
                case "fsname": FsName = val ?? ""; break;
                case "subtype":
                    if (string.IsNullOrEmpty(val)) { error = "subtype= needs a value"; return false; }
                    Subtype = val; break;
                case "max_read":
                    if (!uint.TryParse(val, out uint mr)) { error = $"bad value for max_read: '{val}'"; return false; }
                    MaxRead = mr; break;
                case "max_write":
                    if (!uint.TryParse(val, out uint mw) || mw < 4096) { error = $"bad value for max_write: '{val}'"; return false; }
                    Connection.MaxWrite = mw; break;
                case "io_uring": IoUring = true; break;
                case "readahead_kb":
                    if (!int.TryParse(val, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ra) || ra > 1 << 20) { error = $"bad value for {key}: '{val}'"; return false; }
                    ReadAheadKb = ra; break;
                case "noio_uring": IoUring = false; break;
                case "direct_io_writeonly": Connection.WriteOnlyDirectIo = true; break;
                case "nodirect_io_writeonly": Connection.WriteOnlyDirectIo = false; break;
                case "uring_idle": IoUringIdle = true; break;
                case "nouring_idle": IoUringIdle = false; break;
                case "threads": case "max_threads":
                    if (!int.TryParse(val, out int t) || t < 1 || t > 64) { error = $"bad value for {key}: '{val}'"; return false; }
                    Readers = t; break;
                default: Extra.Add(opt); break;
            }
        }
        return true;
    }

    private static IEnumerable<string> SplitOptions(string list)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < list.Length; i++)
        {
            char c = list[i];
            if (c == '\\' && i + 1 < list.Length) { sb.Append(list[++i]); continue; }
            if (c == ',') { yield return sb.ToString(); sb.Clear(); continue; }
            sb.Append(c);
        }
        yield return sb.ToString();
    }

    /// <summary>The mount(2) flags these options ask for.</summary>
    public int MountFlags =>
        (ReadOnly ? Interop.FuseLibc.MS_RDONLY : 0) | (NoSuid ? Interop.FuseLibc.MS_NOSUID : 0)
        | (NoDev ? Interop.FuseLibc.MS_NODEV : 0) | (NoExec ? Interop.FuseLibc.MS_NOEXEC : 0) | ExtraMountFlags;

    /// <summary>The options this layer passes to fusermount3 (it adds fd=, rootmode=, user_id=, group_id= itself).</summary>
    public string FusermountOptions()
    {
        var o = new List<string> { ReadOnly ? "ro" : "rw", NoSuid ? "nosuid" : "suid", NoDev ? "nodev" : "dev", NoExec ? "noexec" : "exec",
            "fsname=" + Escape(FsName ?? Subtype), "subtype=" + Escape(Subtype) };
        if (AllowOther && (Interop.FuseLibc.geteuid() == 0 || UserAllowOther())) o.Add("allow_other");
        if (DefaultPermissions) o.Add("default_permissions");
        if (MaxRead != 0) o.Add("max_read=" + MaxRead);
        return string.Join(',', o);
    }

    /// <summary>
    /// True if /etc/fuse.conf permits allow_other to users (user_allow_other). Without it fusermount3 refuses
    /// allow_other, so a daemon that is not root mounts for its own user only instead of failing.
    /// </summary>
    public static bool UserAllowOther()
    {
        try { return File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == "user_allow_other"); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    internal static string Escape(string s) => s.Replace("\\", "\\\\").Replace(",", "\\,");
}
