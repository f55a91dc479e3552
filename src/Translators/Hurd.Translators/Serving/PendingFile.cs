using Hurd.Interfaces;
using Hurd.Ipc.Abi;

namespace Hurd.Translators.Serving;

/// <summary>
/// The anonymous file of dir_mkfile, before it gets a name. The Hurd creates symlinks and
/// device nodes in three steps (glibc's symlinkat and mknodat): dir_mkfile, then
/// file_set_translator with a short-circuited translator ("/hurd/symlink\0TARGET\0",
/// "/hurd/chrdev\0MAJ\0MIN\0", "/hurd/fifo", ...), then dir_link. Node models create a node of
/// its final type in one step, so the serving layer keeps the intent here and makes the real
/// node when dir_link names it (a plain anonymous file becomes a regular file then).
/// </summary>
internal sealed class PendingFile(Protid dir, FileMode perm) : Node(0), IStatable
{
    /// <summary>The directory dir_mkfile was called on (whose identity creates the node).</summary>
    public Protid Dir { get; } = dir;
    /// <summary>The permission bits asked for.</summary>
    public FileMode Perm { get; } = perm & FileMode.PermMask;
    /// <summary>The short-circuited translator record set on it, or null for a plain file.</summary>
    public string[]? Record { get; set; }
    /// <summary>The node made by dir_link.</summary>
    public Node? Real { get; set; }

    public Errno Stat(Protid who, ref Stat st)
    {
        st.Mode = FileMode.Regular | Perm;
        st.Uid = Dir.User.Uid;
        st.Gid = Dir.User.Gid;
        st.Nlink = 0;
        return Errno.OK;
    }

    /// <summary>Records a short-circuited translator; EOPNOTSUPP for any other (a real translator on an anonymous file is not carried).</summary>
    public Errno SetRecord(string[] argv)
    {
        if (argv.Length == 0) { Record = null; return Errno.OK; }
        switch (argv[0])
        {
            case ShortCircuitTranslators.Symlink when argv.Length == 2:
            case ShortCircuitTranslators.Fifo when argv.Length == 1:
            case ShortCircuitTranslators.Socket when argv.Length == 1:
            case ShortCircuitTranslators.CharDevice or ShortCircuitTranslators.BlockDevice when argv.Length == 3
                && uint.TryParse(argv[1], out _) && uint.TryParse(argv[2], out _):
                Record = argv;
                return Errno.OK;
            default:
                return argv[0] is ShortCircuitTranslators.Symlink or ShortCircuitTranslators.Fifo or ShortCircuitTranslators.Socket
                    or ShortCircuitTranslators.CharDevice or ShortCircuitTranslators.BlockDevice ? Errno.EINVAL : Errno.EOPNOTSUPP;
        }
    }

    /// <summary>Makes the real node under <paramref name="name"/> in the directory <paramref name="into"/>.</summary>
    public Errno Realize(Protid into, Node root, ReadOnlySpan<byte> name)
    {
        if (Real is not null) return Calls.DirLink(into, Real, name);
        Errno e;
        Node? node;
        switch (Record?[0])
        {
            case ShortCircuitTranslators.Symlink:
                e = Calls.DirSymlink(into, name, System.Text.Encoding.UTF8.GetBytes(Record[1]), out node);
                break;
            case ShortCircuitTranslators.Fifo:
                e = Calls.DirMknod(into, name, FileMode.Fifo | Perm, 0, out node);
                break;
            case ShortCircuitTranslators.Socket:
                e = Calls.DirMknod(into, name, FileMode.Socket | Perm, 0, out node);
                break;
            case ShortCircuitTranslators.CharDevice:
            case ShortCircuitTranslators.BlockDevice:
                var type = Record[0] == ShortCircuitTranslators.CharDevice ? FileMode.CharDevice : FileMode.BlockDevice;
                e = Calls.DirMknod(into, name, type | Perm, MakeDev(uint.Parse(Record[1]), uint.Parse(Record[2])), out node);
                break;
            default:
                e = Calls.DirMknod(into, name, FileMode.Regular | Perm, 0, out node);
                break;
        }
        if (e == Errno.OK) Real = node;
        return e;
    }

    /// <summary>Linux's makedev (glibc's encoding of major and minor into dev_t).</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
}
