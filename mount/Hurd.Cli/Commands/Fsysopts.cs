using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd fsysopts NODE [OPTION...]</c>: the Hurd's fsysopts. With no options it prints the options of the
/// filesystem serving NODE (fsys_get_options / file_get_fs_options: its name, then its options); with
/// options it changes them at run time (fsys_set_options).
/// </summary>
public static class Fsysopts
{
    public const string Help = """
        Usage: hurd fsysopts [-r] NODE [FS_OPTION...]
        Show (no FS_OPTION) or change the run-time options of the translator serving NODE.

          -r, --recursive            also change the options of its child translators
          -h, --help                 show this help

        Example: hurd fsysopts ~/hi --contents='Hi!'   (a hello translator on ~/hi)

        Exit status: 0 success, 1 failure (EINVAL: the translator refused the options), 2 usage error.

        """;

    /// <summary>The command's entry point.</summary>
    public static int Run(string[] args)
    {
        bool recursive = false;
        int i = 0;
        for (; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "--") { i++; break; }
            if (!a.StartsWith('-') || a == "-") break;
            switch (a)
            {
                case "-h" or "--help": Console.Out.Write(Help); return 0;
                case "-r" or "--recursive": recursive = true; break;
                default: throw new CommandFailed($"unrecognized option '{a}'\nTry 'hurd fsysopts --help' for more information.", 2);
            }
        }
        if (i >= args.Length) throw new CommandFailed("missing NODE\nTry 'hurd fsysopts --help' for more information.", 2);
        string node = args[i];
        string[] options = args[(i + 1)..];
        if (options.Length == 0) Console.Out.WriteLine(string.Join(' ', Get(node)));
        else Set(node, options, recursive);
        return 0;
    }

    /// <summary>The options of the filesystem serving <paramref name="node"/> (its name first).</summary>
    public static string[] Get(string node)
    {
        var where = Located.Find(node);
        var buf = new byte[64 * 1024];
        int n;
        Errno e;
        if (where.Kind == NodeKind.Inside)
        {
            using var root = Tree.Root(where.Record!, where.Path);
            using var port = Tree.Lookup(root, where.Relative, OpenFlags.None, 0, where.Path);
            // Through the control port when we may have it (its answer starts with the translator's name, as
            // on the Hurd); file_get_fs_options (the options alone) for anyone else.
            var fsc = new FsClient(port) { TimeoutMs = Tree.CallTimeoutMs };
            if (fsc.file_getcontrol(out var name) == Errno.OK && SendRight.FromName(name) is { } control)
            {
                using (control) e = new FsysClient(control) { TimeoutMs = Tree.CallTimeoutMs }.fsys_get_options(buf, out n);
            }
            else e = fsc.file_get_fs_options(buf, out n);
        }
        else
        {
            using var control = ControlOf(where);
            e = new FsysClient(control) { TimeoutMs = Tree.CallTimeoutMs }.fsys_get_options(buf, out n);
        }
        if (e != Errno.OK) throw CommandFailed.On(where.Path, e);
        return Native.SplitArgz(buf.AsSpan(0, n));
    }

    /// <summary>Sets <paramref name="options"/> on the filesystem serving <paramref name="node"/>.</summary>
    public static void Set(string node, string[] options, bool recursive)
    {
        var where = Located.Find(node);
        SendRight control;
        if (where.Kind == NodeKind.Inside)
        {
            using var root = Tree.Root(where.Record!, where.Path);
            using var port = Tree.Lookup(root, where.Relative, OpenFlags.None, 0, where.Path);
            var ce = new FsClient(port) { TimeoutMs = Tree.CallTimeoutMs }.file_getcontrol(out var name);
            if (ce != Errno.OK) throw CommandFailed.On(where.Path, ce);
            control = SendRight.FromName(name) ?? throw CommandFailed.On(where.Path, Errno.EIO);
        }
        else control = ControlOf(where);
        using (control)
        {
            var e = new FsysClient(control) { TimeoutMs = Tree.CallTimeoutMs }.fsys_set_options(Native.Argz(options), recursive);
            if (e == Errno.EINVAL)
                throw new CommandFailed($"{where.Path}: the translator refused the options ({string.Join(' ', options)}): {CommandFailed.Describe(e)}");
            if (e != Errno.OK) throw CommandFailed.On(where.Path, e);
        }
    }

    private static SendRight ControlOf(Located where)
    {
        if (where.Kind == NodeKind.MountPoint && where.IsActive) return Daemons.Control(where.Record!, where.Path);
        if (where.Kind == NodeKind.MountPoint)
            throw new CommandFailed($"{where.Path}: its translator died (`hurd settrans -g {where.Path}` clears it)");
        throw new CommandFailed($"{where.Path}: not served by a translator");
    }
}
