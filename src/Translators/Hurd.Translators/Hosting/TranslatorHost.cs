using System.Runtime.InteropServices;
using Hurd.Fuse;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;
using Hurd.Translators.Fuse;
using Hurd.Translators.Serving;

namespace Hurd.Translators.Hosting;

/// <summary>
/// Runs a translator as a daemon: serves its tree over IPC (<see cref="ServedFilesystem"/>) and,
/// when asked, mounts it on Linux through FUSE with the bridge running in this process over
/// the in-process transport (no extra hop). The whole <c>Main</c> of a translator is
/// <c>return TranslatorHost.Run(args, root);</c>.
/// </summary>
/// <remarks>
/// Command line (the translator's own options are everything the host does not take):
/// <list type="bullet">
/// <item><c>--mount=DIR</c>: mount on DIR through FUSE and stay in the foreground (what `hurd settrans` uses).</item>
/// <item>the ordinary FUSE daemon line, for mount.fuse3 and /etc/fstab: <c>PROG [SOURCE] MOUNTPOINT [-o opts] [-f]</c>;
///   SOURCE becomes the translator's first argument, unknown <c>-o key=value</c> become <c>--key=value</c>;
///   without <c>-f</c> the daemon goes to the background once mounted.</item>
/// <item>with <c>HURD_BOOTSTRAP</c> in the environment (started by a parent filesystem for a translated node):
///   no mount; report to the parent with fsys_startup and serve until fsys_goaway or the parent's death.</item>
/// </list>
/// Once serving it writes its <see cref="MountRecord"/> and publishes its control port (owner-only) under
/// the record's bootstrap name; fsys_goaway (EBUSY while the mount is busy, unless FORCE) or SIGTERM unmount
/// and end it.
/// </remarks>
public static partial class TranslatorHost
{
    /// <summary>
    /// Runs the translator whose root is <paramref name="root"/>. The translator's own arguments are
    /// applied with <see cref="IFilesystemOptions.SetOptions"/> (a bad one: exit 2 with a message).
    /// </summary>
    public static int Run(string[] args, Node root) =>
        Run(args, own =>
        {
            if (own.Length == 0) return (root, null);
            if (root is not IFilesystemOptions o) return (null, $"unexpected argument '{own[0]}'");
            var e = o.SetOptions(TranslatorLauncher.JoinArgz(own));
            return e == Errno.OK ? (root, null) : (null, $"invalid arguments: {string.Join(' ', own)}: {e.Message()}");
        });

    /// <summary>
    /// Runs a translator whose root is made from its own arguments by <paramref name="makeRoot"/>, which
    /// returns the root or an error message (exit 2).
    /// </summary>
    public static int Run(string[] args, Func<string[], (Node? Root, string? Error)> makeRoot)
    {
        string name = Path.GetFileNameWithoutExtension(Environment.GetCommandLineArgs()[0]);
        var own = new List<string>();
        var fuseArgs = new List<string>();
        string? mount = null;
        bool help = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a.StartsWith("--mount=", StringComparison.Ordinal)) mount = a["--mount=".Length..];
            else if (a == "-o" && i + 1 < args.Length) { fuseArgs.Add(a); fuseArgs.Add(args[++i]); }
            else if (a.StartsWith("-o", StringComparison.Ordinal) || a is "-f" or "-d" or "-s" or "-V" or "--version") fuseArgs.Add(a);
            else if (a is "-h" or "--help") help = true;
            else own.Add(a);
        }
        if (help)
        {
            Console.Out.Write($"Usage: {name} [OPTION...] [--mount=DIR | [SOURCE] MOUNTPOINT [-o OPTS] [-f]]\n" +
                "A translator. With HURD_BOOTSTRAP set, it reports to the parent filesystem instead of mounting.\n\n" +
                "  --mount=DIR     mount on DIR through FUSE (foreground)\n\n" + FuseMountOptions.Help + BridgeHelp);
            return 0;
        }

        string? bootstrap = Environment.GetEnvironmentVariable("HURD_BOOTSTRAP");
        FuseMountOptions? mo = null;
        var bridgeOptions = new FuseBridgeOptions();
        if (bootstrap is null)
        {
            if (mount is null)
            {
                // FUSE daemon convention: the last positional argument is the mount point, an earlier one the source.
                var positional = own.Where(a => !a.StartsWith('-')).ToList();
                if (positional.Count == 0)
                {
                    Console.Error.WriteLine($"{name}: no mount point (use --mount=DIR, or run it with `hurd settrans`)");
                    return 2;
                }
                mount = positional[^1];
                own.Remove(mount);
                fuseArgs.Add(mount);
            }
            else
            {
                fuseArgs.Add(mount);
                fuseArgs.Add("-f");
            }
            if (PreferIoUring) fuseArgs.InsertRange(0, ["-o", "io_uring"]);
            if (!FuseMountOptions.TryParse(fuseArgs, out mo, out var err))
            {
                Console.Error.WriteLine($"{name}: {err}");
                return 2;
            }
            // The bridge's caching options (libfuse's names), then: unknown -o key=value options belong to the translator.
            foreach (var x in mo.Extra)
            {
                var taken = TakeBridgeOption(x, bridgeOptions);
                if (taken == false) { Console.Error.WriteLine($"{name}: bad option value '{x}'"); return 2; }
                if (taken is null) own.Add("--" + x);
            }
            mo.Subtype = name;
            mo.FsName ??= own.FirstOrDefault(a => !a.StartsWith('-')) ?? name;
        }

        var (rootNode, error) = makeRoot(own.ToArray());
        if (rootNode is null)
        {
            Console.Error.WriteLine($"{name}: {error}");
            return 2;
        }

        if (mo is not null && !mo.Foreground)
        {
            // mount.fuse3 / fstab: mount in a background child, report how it went, exit.
            var code = FuseDaemon.Background(mo, args);
            if (code is { } c) return c;
        }

        using var fs = new ServedFilesystem(rootNode, name);
        return bootstrap is not null ? ServeChild(fs, name, bootstrap) : ServeMount(fs, name, mo!, bridgeOptions, args);
    }

    /// <summary>
    /// Mount through FUSE over io_uring by default (when the kernel allows it; <c>-o noio_uring</c> turns it off, and
    /// <c>-o io_uring</c> turns it on for any translator). For translators whose handlers never wait on other servers
    /// (ext2fs): a request is then served on its client's CPU (<see cref="Hurd.Fuse.FuseMountOptions.IoUring"/>).
    /// Set before <c>Run</c>.
    /// </summary>
    public static bool PreferIoUring { get; set; }

    /// <summary>The auth handle of the translator this process serves (its identity: what io_reauthenticate's server
    /// half and the owner handles of its passive translators come from), once it serves; null without an auth server.</summary>
    public static SendRight? Auth => s_fs?.Auth;

    private static ServedFilesystem? s_fs;

    /// <summary>Set before <c>Run</c> by a translator that has its auth handle already (the auth server itself, whose
    /// own root handle is in-process): the handle is used as is, and the bootstrap directory is not searched (which
    /// would connect the auth server to itself). The filesystem owns what it returns.</summary>
    public static Func<SendRight?>? OwnAuth { get; set; }

    /// <summary>A mounted translator's own handle: from the auth server in the bootstrap directory (this process's
    /// kernel-attested ids), looked up again later if auth is not running yet or restarts.</summary>
    private static void FindAuth(ServedFilesystem fs)
    {
        s_fs = fs;
        if (OwnAuth is { } own) { fs.Auth = own(); return; }
        if (AuthPorts.Connect(out var h, 2000) == Errno.OK) fs.Auth = h;
        fs.DiscoverAuth = true;
    }

    /// <summary>The bridge's options that a FUSE command line (or an fstab line) may give, in libfuse's names; help text.</summary>
    public const string BridgeHelp =
        "Bridge options (how the Linux kernel may cache what the translator says):\n" +
        "    -o entry_timeout=T      seconds a name stays cached (default 1)\n" +
        "    -o attr_timeout=T       seconds attributes stay cached (default 1)\n" +
        "    -o negative_timeout=T   seconds a missing name stays cached (default 0)\n" +
        "    -o kernel_cache         keep file contents cached across opens (only if nothing else changes the files)\n" +
        "    -o auto_cache           keep them while mtime and size are unchanged (the default)\n" +
        "    -o noauto_cache         drop them at every open\n" +
        "    -o readdirplus=yes|no   attributes with directory entries (default yes)\n";

    /// <summary>Applies one -o option to <paramref name="bo"/> if it is a bridge option: true if taken, false if its
    /// value is bad, null if it is not a bridge option (it then belongs to the translator).</summary>
    internal static bool? TakeBridgeOption(string option, FuseBridgeOptions bo)
    {
        int eq = option.IndexOf('=');
        string key = eq < 0 ? option : option[..eq];
        string? val = eq < 0 ? null : option[(eq + 1)..];
        static bool Seconds(string? v, out TimeSpan t)
        {
            t = default;
            if (!double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d)
                || !double.IsFinite(d) || d < 0 || d > 1e9) return false;
            t = TimeSpan.FromSeconds(d);
            return true;
        }
        TimeSpan ts;
        switch (key)
        {
            case "entry_timeout": if (!Seconds(val, out ts)) return false; bo.EntryTimeout = ts; return true;
            case "attr_timeout": if (!Seconds(val, out ts)) return false; bo.AttrTimeout = ts; return true;
            case "negative_timeout": if (!Seconds(val, out ts)) return false; bo.NegativeTimeout = ts; return true;
            case "kernel_cache" when val is null: bo.KeepCache = true; return true;
            case "auto_cache" when val is null: bo.AutoCache = true; bo.KeepCache = false; return true;
            case "noauto_cache" when val is null: bo.AutoCache = false; return true;
            case "readdirplus":
                if (val is "yes" or "auto") bo.ReaddirPlus = true;
                else if (val is "no") bo.ReaddirPlus = false;
                else return false;
                return true;
            default: return null;
        }
    }

    private static int ServeMount(ServedFilesystem fs, string name, FuseMountOptions mo, FuseBridgeOptions bo, string[] args)
    {
        string mnt = MountRecord.Normalize(mo.MountPoint);
        fs.Source = mo.FsName ?? name;
        using var done = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; done.Set(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; done.Set(); });

        string control = MountRecord.ControlNameOf(mnt);
        var e = Bootstrap.Publish(control, fs.Control, out var publication, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (e != Errno.OK)
        {
            Console.Error.WriteLine($"{name}: {mnt}: cannot publish the control port: {e.Message()}");
            return 1;
        }
        FindAuth(fs);
        using (publication)
        {
            using var controlRight = fs.Control.MakeSend();
            bo.Auth = () => fs.Auth;
            bo.ApplyTo(mo);
            e = FuseBridge.Connect(controlRight, bo, out var bridge);
            if (e != Errno.OK)
            {
                Console.Error.WriteLine($"{name}: cannot reach its own root: {e.Message()}");
                return 1;
            }
            fs.Observer = bridge;
            FuseSession session;
            try { session = FuseSession.Mount(bridge!, mo); }
            catch (FuseMountException ex)
            {
                Console.Error.WriteLine($"{name}: {ex.Message}");
                return 1;
            }
            using (session)
            {
                fs.GoAway = flags =>
                {
                    bool force = (flags & GoAwayFlags.Force) != 0;
                    var u = FuseSession.UnmountPath(mnt, lazy: false);
                    if (u == Errno.EBUSY && force) u = FuseSession.UnmountPath(mnt, lazy: true);
                    if (u != Errno.OK && u != Errno.EINVAL) return u;
                    done.Set();
                    return Errno.OK;
                };
                new MountRecord
                {
                    MountPoint = mnt,
                    Pid = Environment.ProcessId,
                    Argv = [name, .. args.Where(a => !a.StartsWith("--mount=", StringComparison.Ordinal) && a != "-f")],
                    Control = control,
                    Uid = Hurd.Ipc.Interop.Self.Uid,
                }.Save();
                try
                {
                    // Serve until unmounted (the readers end), fsys_goaway, or a signal.
                    while (!done.Wait(200) && session.IsRunning) { }
                }
                finally
                {
                    MountRecord.Remove(mnt, Environment.ProcessId);
                    if (session.IsRunning) FuseSession.UnmountPath(mnt, lazy: true);
                }
            }
        }
        return 0;
    }

    private static int ServeChild(ServedFilesystem fs, string name, string bootstrap)
    {
        // HURD_BOOTSTRAP: the socket path of the parent's bootstrap port (or a name in the bootstrap directory).
        SendRight? parent;
        var e = bootstrap.StartsWith('/') ? Bootstrap.Connect(bootstrap, out parent) : Bootstrap.Lookup(bootstrap, out parent);
        if (e != Errno.OK)
        {
            Console.Error.WriteLine($"{name}: cannot reach the parent filesystem ({bootstrap}): {e.Message()}");
            return 1;
        }
        // The auth handle the parent made for the node's owner (INIT_PORT_AUTH); a parent without auth hands none,
        // and then the auth server in the bootstrap directory gives this process's own.
        parent!.Timeout = TimeSpan.FromSeconds(30);
        if (TranslatorStartup.GetInfo(parent, out var auth) == Errno.OK && auth is not null)
        {
            if (OwnAuth is { } own) { auth.Dispose(); fs.Auth = own(); }
            else fs.Auth = auth;
        }
        else if (OwnAuth is { } own) fs.Auth = own();
        else if (AuthPorts.Connect(out auth, 2000) == Errno.OK) fs.Auth = auth;
        s_fs = fs;
        using var done = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; done.Set(); });
        fs.GoAway = flags =>
        {
            if ((flags & GoAwayFlags.Force) == 0 && fs.ProtidPortCount > 0) return Errno.EBUSY;
            done.Set();
            return Errno.OK;
        };
        using (parent)
        {
            e = new FsysClient(parent!) { TimeoutMs = 30_000 }.fsys_startup(OpenFlags.Read, fs.Control.Name, out var realnode);
            if (e != Errno.OK)
            {
                Console.Error.WriteLine($"{name}: fsys_startup: {e.Message()}");
                return 1;
            }
            IpcSpace.Current.Deallocate(realnode);
        }
        // Serve until told to go away, or until the parent filesystem is gone (we are its child process).
        int parentPid = getppid();
        while (!done.Wait(500))
        {
            if (getppid() != parentPid) break;
        }
        return 0;
    }

    [LibraryImport("libc")]
    private static partial int getppid();
}
