using System.Diagnostics;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;
using Hurd.Translators.Hosting;

namespace Hurd.Translators.Serving;

/// <summary>
/// The translators set on nodes of one filesystem (libfshelp's transboxes and fetch_root).
/// A passive translator (a command stored on the node) starts on the first lookup that crosses
/// the node, as a child process: the parent publishes a one-time bootstrap port, the child
/// sends fsys_startup on it with its control port, and the parent then asks that control port
/// for the root (fsys_getroot) on the client's behalf. A translator that died is noticed by
/// its dead control port: a passive one is restarted on the next lookup, an active-only one
/// disappears (the node is served as a plain node again).
/// </summary>
public sealed class PassiveTranslators : IDisposable
{
    /// <summary>How long a starting translator has to send fsys_startup.</summary>
    public static TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    private readonly ServedFilesystem _fs;
    private readonly Lock _lock = new();

    internal PassiveTranslators(ServedFilesystem fs) => _fs = fs;

    /// <summary>The transbox of a node: its running translator (Node.ActiveTranslator holds one).</summary>
    internal sealed class Transbox
    {
        public required SendRight Control;
        public Process? Process;
        public required string[] Argv;
        /// <summary>True when started from the passive record (restart it if it dies).</summary>
        public bool FromPassive;
    }

    private readonly List<(Node Node, Transbox Box)> _active = new();

    /// <summary>The root of the translator on <paramref name="node"/> for the client <paramref name="who"/>, starting it if needed.</summary>
    internal Errno GetRoot(Node node, Protid who, OpenFlags flags, out PortName root)
    {
        root = PortName.Null;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var e = Ensure(node, out var box);
            if (e != Errno.OK) return e;
            var fsys = new FsysClient(box!.Control) { TimeoutMs = 30_000 };
            Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
            e = fsys.fsys_getroot(PortName.Null, who.User.Uids, who.User.Gids, flags, out var doRetry, retry, out int n, out var file);
            if (e == Errno.EDIED) { Forget(node, box); continue; }
            if (e != Errno.OK) return e;
            if (doRetry != Hurd.Interfaces.RetryType.Normal || n != 0)
            {
                IpcSpace.Current.Deallocate(file.Name);
                return Errno.EOPNOTSUPP;
            }
            root = file.Name;
            return Errno.OK;
        }
        return Errno.EIO;
    }

    /// <summary>file_get_translator_cntl: the control port of the node's active translator (started if passive).</summary>
    internal Errno GetControl(Protid who, out PortName control)
    {
        control = PortName.Null;
        var e = Calls.Stat(who, who.Node, out var st);
        if (e != Errno.OK) return e;
        if (!who.User.IsRoot && !who.User.HasUid(st.Uid)) return Errno.EPERM;
        if (!who.Node.IsTranslated) return Errno.ENXIO;
        e = Ensure(who.Node, out var box);
        if (e != Errno.OK) return e;
        control = box!.Control.Name;
        return Errno.OK;
    }

    /// <summary>
    /// file_set_translator. Passive part (passiveFlags has Set): store or clear the record. Active part
    /// (activeFlags has Set): with a null <paramref name="active"/> port and a non-empty argz, start
    /// the argz now as the active translator (this system's `settrans -a` inside a tree: the parent
    /// starts it); with a null port and no argz, make the running one go away with <paramref name="goaway"/>.
    /// </summary>
    internal Errno SetTranslator(Protid who, TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags goaway,
        ReadOnlySpan<byte> argz, PortName active)
    {
        var node = who.Node;
        var e = Calls.Stat(who, node, out var st);
        if (e != Errno.OK) { IpcSpace.Current.Deallocate(active); return e; }
        if (!who.User.IsRoot && !who.User.HasUid(st.Uid)) { IpcSpace.Current.Deallocate(active); return Errno.EPERM; }
        if (!argz.IsEmpty && argz[^1] != 0) { IpcSpace.Current.Deallocate(active); return Errno.EINVAL; }
        Transbox? running = node.ActiveTranslator as Transbox;
        if (running is not null && running.Control.IsDead) { Forget(node, running); running = null; }

        bool exclusive = ((passiveFlags | activeFlags) & TransFlags.Excl) != 0;
        if (exclusive && (running is not null || node.IsTranslated)) { IpcSpace.Current.Deallocate(active); return Errno.EBUSY; }

        if ((activeFlags & TransFlags.Set) != 0)
        {
            if (running is not null)
            {
                e = StopOne(node, running, goaway);
                if (e != Errno.OK) { IpcSpace.Current.Deallocate(active); return e; }
            }
            if (!active.IsNull)
            {
                var ctl = SendRight.FromName(active)!;
                Install(node, new Transbox { Control = ctl, Argv = LauncherArgv(argz) });
            }
            else if (!argz.IsEmpty)
            {
                e = Start(node, LauncherArgv(argz), fromPassive: false, out _);
                if (e != Errno.OK) return e;
            }
        }
        else if (running is not null && (passiveFlags & TransFlags.Set) != 0 && argz.IsEmpty && (goaway != 0))
        {
            e = StopOne(node, running, goaway);
            if (e != Errno.OK) return e;
        }
        if ((passiveFlags & TransFlags.Set) != 0)
        {
            e = Calls.FileSetTranslator(who, node, argz);
            if (e != Errno.OK) return e;
        }
        return Errno.OK;
    }

    private static string[] LauncherArgv(ReadOnlySpan<byte> argz) => TranslatorLauncher.SplitArgz(argz);

    /// <summary>fsys_get_children: the command lines of the running translators (argz of "ino:argv0").</summary>
    internal Errno GetChildren(Span<byte> dst, out int count)
    {
        count = 0;
        var names = new List<string>();
        lock (_lock) foreach (var (n, b) in _active) names.Add($"{n.Ino}:{string.Join(' ', b.Argv)}");
        var argz = TranslatorLauncher.JoinArgz(names);
        if (argz.Length > dst.Length) return Errno.EMSGSIZE;
        argz.CopyTo(dst);
        count = argz.Length;
        return Errno.OK;
    }

    /// <summary>Makes every running translator go away (children first: they are leaves here).</summary>
    internal void GoAwayAll(GoAwayFlags flags)
    {
        List<(Node, Transbox)> all;
        lock (_lock) all = new(_active);
        foreach (var (n, b) in all) StopOne(n, b, flags | GoAwayFlags.Force);
    }

    private Errno Ensure(Node node, out Transbox? box)
    {
        lock (_lock)
        {
            box = node.ActiveTranslator as Transbox;
            if (box is not null && !box.Control.IsDead) return Errno.OK;
            if (box is not null) ForgetUnlocked(node, box);
            if (node is not ITranslatable t || !t.HasPassiveTranslator) return Errno.ENXIO;
            var e = t.GetTranslator(out var argz);
            if (e != Errno.OK) return e;
            return Start(node, TranslatorLauncher.SplitArgz(argz.Span), fromPassive: true, out box);
        }
    }

    private Errno Start(Node node, string[] argv, bool fromPassive, out Transbox? box)
    {
        box = null;
        if (argv.Length == 0) return Errno.EINVAL;
        // fshelp_fetch_root: the translator runs as the node's owner.
        var e = Calls.Stat(new Protid(Identity.Root, OpenFile.Detached(node)), node, out var st);
        if (e != Errno.OK) return e;
        (uint Uid, uint Gid)? runAs = Self.Uid == 0 && (st.Uid != 0 || st.Gid != 0) ? (st.Uid, st.Gid) : null;
        using var childAuth = OwnerAuth(st.Uid, st.Gid);
        // The bootstrap port the child reports to: fsys_startup, and before it the ports it is handed (its auth handle).
        var startup = new StartupPort(childAuth);
        using var port = ReceivePort.Create(startup, static (StartupPort s, ref RpcRequest r) =>
            r.Id == TranslatorStartup.GetInfoId ? TranslatorStartup.Answer(ref r, s.Auth) : FsysServer.Dispatch(s, ref r));
        string name = "startup/" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        e = Bootstrap.Publish(name, port, out var publication, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (e != Errno.OK) return e;
        using (publication)
        {
            if (runAs is { } who)
            {
                // Owner-only, and the owner is the child: nobody else may pose as the translator.
                if (TranslatorLauncher.Chown(publication!.Path, who.Uid, who.Gid) is int ce and not 0)
                {
                    Console.Error.WriteLine($"{_fs.FsName}: cannot hand the bootstrap port to uid {who.Uid}: {((Errno)ce).Message()}");
                    return (Errno)ce;
                }
                if (UnsearchableAncestor(publication.Path, who.Uid, who.Gid) is { } dir)
                {
                    Console.Error.WriteLine($"{_fs.FsName}: cannot start {argv[0]} as uid {who.Uid}: it cannot reach its bootstrap port ({dir} is not searchable by it; the runtime directory must be, as /run/hurd is)");
                    return Errno.EACCES;
                }
            }
            var env = new Dictionary<string, string> { ["HURD_BOOTSTRAP"] = publication!.Path };
            var proc = TranslatorLauncher.Start(argv, env, runAs, out var err);
            if (proc is null)
            {
                Console.Error.WriteLine($"{_fs.FsName}: cannot start translator: {err}");
                return Errno.ENOENT;
            }
            var deadline = DateTime.UtcNow + StartupTimeout;
            while (!startup.Started.Wait(50))
            {
                if (proc.HasExited || DateTime.UtcNow > deadline)
                {
                    Console.Error.WriteLine($"{_fs.FsName}: translator {string.Join(' ', argv)} {(proc.HasExited ? $"exited ({proc.ExitCode})" : "did not start in time")}");
                    if (!proc.HasExited) { try { proc.Kill(); } catch (InvalidOperationException) { } }
                    return Errno.EDIED;
                }
            }
            box = new Transbox { Control = startup.Control!, Process = proc, Argv = argv, FromPassive = fromPassive };
            Install(node, box);
            return Errno.OK;
        }
    }

    /// <summary>The first directory above <paramref name="path"/> that <paramref name="uid"/>/<paramref name="gid"/> (no
    /// supplementary groups) may not search, or null.</summary>
    private static string? UnsearchableAncestor(string path, uint uid, uint gid)
    {
        for (var d = Path.GetDirectoryName(path); !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
        {
            if (TranslatorLauncher.StatOwner(d, out uint du, out uint dg, out uint mode) != 0) return d;
            bool x = du == uid ? (mode & 0x40) != 0 : dg == gid ? (mode & 0x8) != 0 : (mode & 0x1) != 0;
            if (!x) return d;
        }
        return null;
    }

    /// <summary>
    /// The auth handle a translator on a node owned by <paramref name="uid"/>/<paramref name="gid"/> starts with:
    /// auth_makeauth(euids [uid], auids [uid, uid], egids [gid], agids [gid, gid]) on this filesystem's own handle,
    /// as fshelp_fetch_root does (real and saved ids the owner's too). A filesystem not running as root may only make handles for ids it holds (EPERM), and its
    /// translators run as its own user: they get a copy of its own handle. Null without an auth server.
    /// </summary>
    private SendRight? OwnerAuth(uint uid, uint gid)
    {
        var auth = _fs.Auth;
        if (auth is null) return null;
        var e = AuthPorts.MakeAuth(auth, new Identity([uid], [gid], [uid, uid], [gid, gid]), out var h);
        if (e == Errno.OK) return h;
        if (e != Errno.EPERM) Console.Error.WriteLine($"{_fs.FsName}: auth_makeauth for uid {uid}: {e.Message()}");
        try { return auth.Copy(); }
        catch (ObjectDisposedException) { return null; }
    }

    private void Install(Node node, Transbox box)
    {
        lock (_lock)
        {
            node.ActiveTranslator = box;
            _active.Add((node, box));
        }
        box.Control.OnDeadName(_ => { lock (_lock) { if (node.ActiveTranslator == box) ForgetUnlocked(node, box); } });
    }

    private void Forget(Node node, Transbox box) { lock (_lock) ForgetUnlocked(node, box); }

    private void ForgetUnlocked(Node node, Transbox box)
    {
        if (node.ActiveTranslator == box) node.ActiveTranslator = null;
        _active.RemoveAll(x => x.Box == box);
        box.Control.Dispose();
        box.Process?.Dispose();
    }

    private Errno StopOne(Node node, Transbox box, GoAwayFlags flags)
    {
        var e = new FsysClient(box.Control) { TimeoutMs = 5_000 }.fsys_goaway(flags);
        if (e == Errno.EDIED) e = Errno.OK;
        if (e != Errno.OK && (flags & GoAwayFlags.Force) == 0) return e;
        if (box.Process is { } p)
        {
            // The dead-name callback may forget (and dispose) the box while we wait: the process is gone then.
            try { if (!p.WaitForExit(e == Errno.OK ? 5_000 : 0)) p.Kill(); }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
        }
        Forget(node, box);
        return Errno.OK;
    }

    /// <summary>Makes every running translator go away.</summary>
    public void Dispose()
    {
        GoAwayAll(GoAwayFlags.Force);
    }

    /// <summary>The bootstrap port's server: takes the child's fsys_startup and hands it the node it translates.</summary>
    private sealed class StartupPort(SendRight? auth) : IFsys
    {
        public readonly ManualResetEventSlim Started = new();
        public SendRight? Control;
        /// <summary>The child's auth handle (the caller of Start owns it; a copy goes to the child).</summary>
        public SendRight? Auth => auth;

        public Errno fsys_startup(OpenFlags openflags, PortName controlPort, out PortName realnode)
        {
            realnode = PortName.Null;
            Control = SendRight.FromName(controlPort);
            Started.Set();
            return Errno.OK;
        }

        public Errno fsys_goaway(GoAwayFlags flags) => Errno.EOPNOTSUPP;
        public Errno fsys_getroot(PortName dotdotNode, ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, OpenFlags flags, out Hurd.Interfaces.RetryType doRetry, Span<byte> retryName, out int retryNameCount, out PortRight file)
        { doRetry = default; retryNameCount = 0; file = PortRight.Null; return Errno.EOPNOTSUPP; }
        public Errno fsys_getfile(ReadOnlySpan<uint> genUids, ReadOnlySpan<uint> genGids, ReadOnlySpan<byte> filehandle, out PortName file) { file = PortName.Null; return Errno.EOPNOTSUPP; }
        public Errno fsys_syncfs(bool wait, bool doChildren) => Errno.EOPNOTSUPP;
        public Errno fsys_set_options(ReadOnlySpan<byte> options, bool doChildren) => Errno.EOPNOTSUPP;
        public Errno fsys_forward(PortName requestor, ReadOnlySpan<byte> argv) => Errno.EOPNOTSUPP;
        public Errno fsys_get_options(Span<byte> options, out int optionsCount) { optionsCount = 0; return Errno.EOPNOTSUPP; }
        public Errno fsys_get_children(Span<byte> children, out int childrenCount) { childrenCount = 0; return Errno.EOPNOTSUPP; }
        public Errno fsys_get_source(Span<byte> source, out int sourceCount) { sourceCount = 0; return Errno.EOPNOTSUPP; }
    }
}
