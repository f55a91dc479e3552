using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd settrans</c>: the Hurd's utils/settrans on this system. On a plain Linux node it starts
/// translator daemons mounted there (and makes them go away); inside a mounted tree it sends
/// file_set_translator to the filesystem that owns the node, as the Hurd's settrans does.
/// </summary>
public static class Settrans
{
    /// <summary>Translators whose root is one regular file (FUSE can only mount a file on a file).</summary>
    public static readonly HashSet<string> FileTranslators = ["hello"];

    /// <summary>The command's entry point.</summary>
    public static int Run(string[] args)
    {
        var o = SettransOptions.Parse(args, out var error, out bool help);
        if (help)
        {
            Console.Out.Write(SettransOptions.Help);
            return 0;
        }
        if (o is null) throw new CommandFailed($"{error}\nTry 'hurd settrans --help' for more information.", 2);
        Apply(o);
        return 0;
    }

    /// <summary>Does what <paramref name="o"/> asks (also used by <c>hurd boot</c>).</summary>
    public static void Apply(SettransOptions o)
    {
        if (o.Orphan) throw new CommandFailed("-o (orphan) is not supported: translators cannot run unattached here");
        if (o.Stack) throw new CommandFailed("-L (stack) is not supported yet");
        var where = Located.Find(o.Node);
        if (where.Kind == NodeKind.Inside) SetInside(o, where);
        else SetOnLinux(o, where);
    }

    // ------------------------------------------------------------------ plain Linux nodes

    private static void SetOnLinux(SettransOptions o, Located where)
    {
        string node = where.Path;
        var timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        // A dead daemon's leftovers (kill -9: a mount answering ENOTCONN, a record) go first.
        if (!where.IsActive) Daemons.ClearStale(node);
        bool active = where.IsActive;

        string[] translator = o.Translator;
        if (o.Start)
        {
            if (active) throw CommandFailed.On(node, Errno.EBUSY, "its translator is already running");
            translator = LinuxPassive.Get(node) ?? throw new CommandFailed($"{node}: no passive translator");
        }

        if (translator.Length == 0)
        {
            // settrans [-g] NODE: clear. The active one goes with -g (or -a with no TRANSLATOR), stays with -k.
            if (active)
            {
                if (o.GoAway || o.Active) Daemons.GoAway(node, where.Record, o.GoAwayFlags, o.Force);
                else if (!o.Keep) throw CommandFailed.On(node, Errno.EBUSY, "an active translator runs there (-g makes it go away)");
            }
            if (o.Passive && !o.Keep || o.GoAway) LinuxPassive.Clear(node);
            return;
        }

        Daemons.Resolve(translator[0]);
        if (o.Exclusive && (active || LinuxPassive.Get(node) is not null))
            throw CommandFailed.On(node, Errno.EBUSY, "it already has a translator (-x)");
        if (active)
        {
            if (o.Keep && !o.Active)
            {
                // Passive only, keep the running one: just the record.
                if (o.PassiveExplicit) Record(node, translator);
                return;
            }
            if (o.Keep) throw CommandFailed.On(node, Errno.EBUSY, "-k keeps the active translator, and only one can sit on a Linux node");
            Daemons.GoAway(node, where.Record, o.GoAwayFlags, o.Force);
        }

        bool wantFile = FileTranslators.Contains(Path.GetFileNameWithoutExtension(translator[0]));
        bool created = false;
        if (!File.Exists(node) && !Directory.Exists(node))
        {
            if (!o.Create) throw CommandFailed.On(node, Errno.ENOENT, "-c creates it");
            Create(node, wantFile);
            created = true;
        }
        else if (wantFile && Directory.Exists(node))
            throw new CommandFailed($"{node}: {translator[0]} serves a single file, and a file cannot be mounted on a directory (use a file, or -c with a new name)");

        if (o.PassiveExplicit) Record(node, translator);
        bool isDir = Directory.Exists(node);
        Daemons.Start(node, translator, timeout);
        if (!RootMatches(node, isDir))
        {
            // The translator serves the other kind of root than the node is: the kernel cannot use it.
            Daemons.GoAway(node, Hurd.Translators.Hosting.MountRecord.Load(node), GoAwayFlags.Force, force: true);
            if (!created)
                throw new CommandFailed($"{node}: {translator[0]} serves a {(isDir ? "file" : "directory")}, and NODE is a {(isDir ? "directory" : "file")}: FUSE cannot mount one on the other");
            Remove(node);
            Create(node, !isDir);
            if (o.PassiveExplicit) Record(node, translator);
            Daemons.Start(node, translator, timeout);
            if (!RootMatches(node, !isDir))
            {
                Daemons.GoAway(node, Hurd.Translators.Hosting.MountRecord.Load(node), GoAwayFlags.Force, force: true);
                throw new CommandFailed($"{node}: the kernel cannot use {translator[0]}'s root (see {Daemons.LogOf(node)})");
            }
        }
    }

    /// <summary>True when the mounted root at <paramref name="node"/> is of the kind the node was (stat through FUSE;
    /// a type mismatch makes the kernel mark the root bad: EIO).</summary>
    private static bool RootMatches(string node, bool isDir) => isDir ? Directory.Exists(node) : File.Exists(node);

    private static void Create(string node, bool file)
    {
        try
        {
            if (file) File.WriteAllBytes(node, []);
            else Directory.CreateDirectory(node);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailed($"{node}: cannot create: {ex.Message}");
        }
    }

    private static void Remove(string node)
    {
        try
        {
            if (Directory.Exists(node)) Directory.Delete(node);
            else File.Delete(node);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailed($"{node}: cannot remove: {ex.Message}");
        }
    }

    private static void Record(string node, string[] translator)
    {
        var e = LinuxPassive.Set(node, translator);
        if (e != Errno.OK)
            Console.Error.WriteLine($"hurd settrans: {node}: cannot record the passive translator in {LinuxPassive.Name}: {CommandFailed.Describe(e)}; continuing");
    }

    // ------------------------------------------------------------------ inside a mounted tree

    private static void SetInside(SettransOptions o, Located where)
    {
        string node = where.Path;
        using var root = Tree.Root(where.Record!, node);
        var flags = OpenFlags.NoTrans | (o.Create ? OpenFlags.Create : 0);
        using var port = Tree.Lookup(root, where.Relative, flags, (FileMode)0x1a4 /* 0644 */, node);
        var fs = new FsClient(port) { TimeoutMs = Math.Max(Tree.CallTimeoutMs, o.TimeoutSeconds * 1000 + 5000) };

        if (o.Start)
        {
            // The parent starts the passive translator when asked for its control port.
            var se = fs.file_get_translator_cntl(out var control);
            if (se != Errno.OK) throw CommandFailed.On(node, se == Errno.ENXIO ? Errno.EINVAL : se, se == Errno.ENXIO ? "no passive translator" : null);
            IpcSpace.Current.Deallocate(control);
            return;
        }

        bool running = (Tree.Stat(port, node).Mode & FileMode.ActiveTranslator) != 0;
        var excl = o.Exclusive ? TransFlags.Excl : 0;
        var passiveFlags = o.Passive ? TransFlags.Set | excl : 0;
        var activeFlags = o.Active ? TransFlags.Set | excl : 0;
        byte[] argz = Native.Argz(o.Translator);
        Errno e;
        if (o.Passive && !o.Active && running)
        {
            // utils/settrans.c: setting just the passive one, the active one goes (-g), stays (-k), or it is EBUSY.
            if (o.GoAway)
            {
                e = SetTranslator(fs, 0, TransFlags.Set, o.GoAwayFlags, [], o.Force);
                if (e != Errno.OK) throw CommandFailed.On(node, e, e == Errno.EBUSY && !o.Force ? "in use (-f forces it away)" : null);
            }
            else if (!o.Keep) throw CommandFailed.On(node, Errno.EBUSY, "an active translator runs there (-g makes it go away, -k keeps it)");
        }
        if (o.Active && o.Keep && running)
            throw CommandFailed.On(node, Errno.EBUSY, "-k keeps the active translator, and only one can sit on the node");
        // -a: the parent filesystem starts the translator itself (the Hurd's settrans starts it and passes
        // its control port; here a null port with the argz asks the parent to).
        e = running && (activeFlags & TransFlags.Set) != 0
            ? SetTranslator(fs, passiveFlags, activeFlags, o.GoAwayFlags, argz, o.Force)
            : fs.file_set_translator(passiveFlags, activeFlags, o.GoAwayFlags, argz, PortName.Null);
        if (e != Errno.OK) throw CommandFailed.On(node, e, e == Errno.EBUSY && !o.Force ? "in use (-f forces it away)" : null);
        if (running || o.Active) ForgetKernelEntries();
    }

    /// <summary>
    /// The Linux kernel caches what a name inside a FUSE mount leads to for the bridge's entry timeout
    /// (1 s); after a translator on a node changed, the next `cat` must see the new one. As root: drop the
    /// kernel's unused dentries and inodes (/proc/sys/vm/drop_caches = 2, no data lost); otherwise wait
    /// the entry timeout out.
    /// </summary>
    private static void ForgetKernelEntries()
    {
        if (Hurd.Ipc.Interop.Self.Uid == 0)
        {
            try
            {
                File.WriteAllText("/proc/sys/vm/drop_caches", "2");
                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        Thread.Sleep(1100);
    }

    /// <summary>
    /// file_set_translator that makes a running translator go away. Its root stays cached by the Linux
    /// kernel after any access through the mount, and the bridge's port for that cache entry counts as a
    /// user (EBUSY without FORCE). So on EBUSY, as root, drop the kernel's unused dentries and inodes
    /// (/proc/sys/vm/drop_caches = 2: no data is lost), which makes the bridge let go, and ask again for a
    /// moment; a file really held open keeps it busy.
    /// </summary>
    private static Errno SetTranslator(FsClient fs, TransFlags passiveFlags, TransFlags activeFlags, GoAwayFlags flags, byte[] argz, bool force)
    {
        var e = fs.file_set_translator(passiveFlags, activeFlags, flags, argz, PortName.Null);
        for (int i = 0; e == Errno.EBUSY && !force && i < 10 && Hurd.Ipc.Interop.Self.Uid == 0; i++)
        {
            try { File.WriteAllText("/proc/sys/vm/drop_caches", "2"); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { break; }
            Thread.Sleep(100 + 50 * i);
            e = fs.file_set_translator(passiveFlags, activeFlags, flags, argz, PortName.Null);
        }
        return e;
    }
}
