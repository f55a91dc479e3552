using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd watch NODE</c>: prints the changes of a node inside one of our translators as the translator reports them
/// (the Hurd's dir_notice_changes for a directory, file_notice_changes for a file), one line each, until interrupted,
/// the translator goes away, or <c>--count</c> changes came. The Hurd has no such command; it is what inotifywait is to
/// Linux, over the Hurd's own protocol: the changes made through the FUSE mount, over IPC or by the libc shim all come.
/// </summary>
public static class Watch
{
    public const string Help = """
        Usage: hurd watch [OPTION...] NODE
        Print the changes of NODE, inside a translator, as the translator reports them, one line
        each, until interrupted (a directory's names; a file's bytes, size and attributes):

          watching NODE                        printed once the translator took the request
          3 new NAME                           a name was made in the directory
          4 unlink NAME                        a name was removed
          5 renumber NAME                      a name was replaced (the target of a rename)
          6 write START END                    bytes [START, END) were written (-1: not known)
          7 truncate 0 SIZE, 8 extend 0 SIZE   the size went down, up
          9 meta                               the attributes changed (not for times alone)

        The number is the translator's tick for the node: a gap means lost messages (a translator
        never waits for a slow watcher).

          -f, --file                 watch a directory as a file (its size and attributes)
          -c, --count N              exit after N changes
          -h, --help                 show this help

        Exit status: 0 when interrupted or after N changes, 1 if NODE cannot be watched or its
        translator went away, 2 usage error.

        """;

    /// <summary>The command's entry point.</summary>
    public static int Run(string[] args)
    {
        bool asFile = false, opts = true;
        long count = -1;
        string? node = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (opts && a == "--") { opts = false; continue; }
            if (opts && a.StartsWith('-') && a.Length > 1)
            {
                switch (a)
                {
                    case "-h" or "--help": Console.Out.Write(Help); return 0;
                    case "-f" or "--file": asFile = true; continue;
                    case "-c" or "--count" when i + 1 < args.Length && long.TryParse(args[i + 1], out count) && count > 0: i++; continue;
                    default: throw new CommandFailed($"unrecognized or incomplete option '{a}'\nTry 'hurd watch --help' for more information.", 2);
                }
            }
            if (node is not null) throw new CommandFailed("one NODE only\nTry 'hurd watch --help' for more information.", 2);
            node = a;
        }
        if (node is null) throw new CommandFailed("missing NODE\nTry 'hurd watch --help' for more information.", 2);

        var where = Located.Find(node);
        if (where.Kind == NodeKind.Plain || (where.Kind == NodeKind.MountPoint && !where.IsActive))
            throw new CommandFailed($"{where.Path}: not inside a running translator of ours (nothing reports its changes)");
        using var root = Tree.Root(where.Record!, where.Path);
        using var port = where.Relative.Trim('/').Length == 0
            ? Tree.Lookup(root, ".", OpenFlags.Read, 0, where.Path)
            : Tree.Lookup(root, where.Relative, OpenFlags.Read, 0, where.Path);
        bool dir = !asFile && Tree.Stat(port, where.Path).Mode.IsDirectory();

        using var done = new ManualResetEventSlim(false);
        var printer = new Printer(count, done);
        using var listener = ReceivePort.Create<IFsNotify>(printer, FsNotifyServer.Dispatch);
        Errno e;
        using (var send = listener.MakeSend())
        {
            var fs = new FsClient(port) { TimeoutMs = Tree.CallTimeoutMs };
            e = dir ? fs.dir_notice_changes(send.Name) : fs.file_notice_changes(send.Name);
        }
        if (e is Errno.EOPNOTSUPP or Errno.MIG_BAD_ID)
            throw new CommandFailed($"{where.Path}: its translator does not report changes");
        if (e != Errno.OK) throw CommandFailed.On(where.Path, e);
        bool gone = false;
        port.OnDeadName(_ => { gone = true; done.Set(); });
        Console.CancelKeyPress += (_, ev) => { ev.Cancel = true; done.Set(); };
        printer.Start(where.Path);
        done.Wait();
        Console.Out.Flush();
        if (gone) throw new CommandFailed($"{where.Path}: the translator went away");
        return 0;
    }

    /// <summary>Prints each message as a line (the NULL one is the "watching" line); counts the changes.</summary>
    private sealed class Printer(long count, ManualResetEventSlim done) : IFsNotify
    {
        readonly Lock _lock = new();
        readonly List<string> _early = [];
        bool _started;
        long _seen;

        /// <summary>Prints the "watching" line, then what came while the registration was answered.</summary>
        public void Start(string path)
        {
            lock (_lock)
            {
                Console.Out.WriteLine($"watching {path}");
                foreach (var l in _early) Console.Out.WriteLine(l);
                Console.Out.Flush();
                _started = true;
                _early.Clear();
            }
        }

        public Errno dir_changed(uint tickno, DirChangedType change, ReadOnlySpan<byte> name) =>
            change == DirChangedType.Null ? Errno.OK : Line($"{tickno} {change.ToString().ToLowerInvariant()} {Encoding.UTF8.GetString(name)}");

        public Errno file_changed(uint tickno, FileChangedType change, long start, long end) => change switch
        {
            FileChangedType.Null => Errno.OK,
            FileChangedType.Meta => Line($"{tickno} meta"),
            _ => Line($"{tickno} {change.ToString().ToLowerInvariant()} {start} {end}"),
        };

        Errno Line(string line)
        {
            lock (_lock)
            {
                if (count > 0 && _seen >= count) return Errno.OK;
                if (_started) { Console.Out.WriteLine(line); Console.Out.Flush(); }
                else _early.Add(line);
                if (count > 0 && ++_seen >= count) done.Set();
            }
            return Errno.OK;
        }
    }
}
