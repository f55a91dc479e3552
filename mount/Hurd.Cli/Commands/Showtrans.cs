using Hurd.Ipc.Abi;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd showtrans NODE...</c>: prints each NODE's translator command line, as the Hurd's showtrans:
/// the passive record (kept by the filesystem inside a mounted tree; the xattr on a plain Linux node);
/// for a Linux mount point with an active translator, that translator's command line.
/// </summary>
public static class Showtrans
{
    public const string Help = """
        Usage: hurd showtrans [OPTION...] NODE...
        Show the passive translator of each NODE (for a mount point of an active translator
        started with `hurd settrans`, its command line).

          -p, --prefix               print "NODE: " before each translator
          -s, --silent               print nothing; only the exit status tells
          -h, --help                 show this help

        Exit status: 0 if every NODE has a translator, 1 otherwise, 2 usage error.

        """;

    /// <summary>The command's entry point.</summary>
    public static int Run(string[] args)
    {
        bool prefix = false, silent = false;
        var nodes = new List<string>();
        bool opts = true;
        foreach (var a in args)
        {
            if (opts && a == "--") { opts = false; continue; }
            if (opts && a.StartsWith('-') && a.Length > 1)
            {
                switch (a)
                {
                    case "-h" or "--help": Console.Out.Write(Help); return 0;
                    case "-p" or "--prefix": prefix = true; continue;
                    case "-s" or "--silent" or "--quiet" or "-q": silent = true; continue;
                    default: throw new CommandFailed($"unrecognized option '{a}'\nTry 'hurd showtrans --help' for more information.", 2);
                }
            }
            nodes.Add(a);
        }
        if (nodes.Count == 0) throw new CommandFailed("missing NODE\nTry 'hurd showtrans --help' for more information.", 2);
        if (nodes.Count > 1) prefix = true;
        int status = 0;
        foreach (var n in nodes)
        {
            try
            {
                var argv = Get(n);
                if (argv is null)
                {
                    if (!silent) Console.Error.WriteLine($"hurd showtrans: {n}: no translator");
                    status = 1;
                    continue;
                }
                if (!silent) Console.Out.WriteLine((prefix ? n + ": " : "") + string.Join(' ', argv));
            }
            catch (CommandFailed ex) when (nodes.Count > 1)
            {
                if (!silent) Console.Error.WriteLine($"hurd showtrans: {ex.Message}");
                status = 1;
            }
        }
        return status;
    }

    /// <summary>The translator command line of <paramref name="node"/>, or null if it has none.</summary>
    public static string[]? Get(string node)
    {
        var where = Located.Find(node);
        switch (where.Kind)
        {
            case NodeKind.Inside:
            {
                using var root = Tree.Root(where.Record!, where.Path);
                using var port = Tree.Lookup(root, where.Relative, OpenFlags.NoTrans, 0, where.Path);
                return Tree.GetTranslator(port, where.Path);
            }
            case NodeKind.MountPoint when where.IsActive:
                return where.Record!.Argv;
            case NodeKind.MountPoint:
                // A dead daemon's mount hides the node: its xattr cannot be read until it is cleared.
                throw new CommandFailed($"{where.Path}: its translator died (`hurd settrans -g {where.Path}` clears it)");
            default:
                if (!File.Exists(where.Path) && !Directory.Exists(where.Path)) throw CommandFailed.On(where.Path, Errno.ENOENT);
                return LinuxPassive.Get(where.Path);
        }
    }
}
