using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Cli.Commands;

/// <summary>
/// <c>hurd stat NODE...</c>: the Hurd's view of a node, which Linux's stat cannot show: the io_stat of the node itself
/// (looked up with O_NOTRANS, so a translated node is not replaced by its translator's root), its translator bits
/// (S_IPTRANS, S_IATRANS) and the passive translator's command line. Outside our trees, the Linux stat and the
/// record kept in the node's xattr (or the active translator mounted there).
/// </summary>
public static partial class StatCommand
{
    public const string Help = """
        Usage: hurd stat [OPTION...] NODE...
        Show the Hurd status of each NODE itself (not of a translator sitting on it): type, mode,
        owner, size, times, POSIX ACLs, and whether it is translated, with the passive translator's
        command line:

          translated: passive /hurd/hello          a passive translator is recorded
          translated: passive /hurd/hello, active  ... and it is running
          translated: active /hurd/ext2fs ...      an active translator without a record
          translated: no

          -t, --translator           print only the "translated:" line
          -h, --help                 show this help

        Exit status: 0 on success, 1 if a NODE cannot be reached, 2 usage error.

        """;

    /// <summary>The command's entry point.</summary>
    public static int Run(string[] args)
    {
        bool only = false, opts = true;
        var nodes = new List<string>();
        foreach (var a in args)
        {
            if (opts && a == "--") { opts = false; continue; }
            if (opts && a.StartsWith('-') && a.Length > 1)
            {
                switch (a)
                {
                    case "-h" or "--help": Console.Out.Write(Help); return 0;
                    case "-t" or "--translator": only = true; continue;
                    default: throw new CommandFailed($"unrecognized option '{a}'\nTry 'hurd stat --help' for more information.", 2);
                }
            }
            nodes.Add(a);
        }
        if (nodes.Count == 0) throw new CommandFailed("missing NODE\nTry 'hurd stat --help' for more information.", 2);
        int status = 0;
        foreach (var n in nodes)
        {
            try { Console.Out.Write(Describe(n, only)); }
            catch (CommandFailed ex) when (nodes.Count > 1)
            {
                Console.Error.WriteLine($"hurd stat: {ex.Message}");
                status = 1;
            }
        }
        return status;
    }

    /// <summary>The text printed for <paramref name="node"/>.</summary>
    public static string Describe(string node, bool translatorOnly = false)
    {
        var where = Located.Find(node);
        Stat st;
        string[]? passive;
        string? active = null;
        byte[]? acl = null, dacl = null;
        string door;
        switch (where.Kind)
        {
            case NodeKind.Inside:
            {
                using var root = Tree.Root(where.Record!, where.Path);
                using var port = Tree.Lookup(root, where.Relative, OpenFlags.NoTrans | OpenFlags.NoLink, 0, where.Path);
                st = Tree.Stat(port, where.Path);
                passive = (st.Mode & FileMode.PassiveTranslator) != 0 ? Tree.GetTranslator(port, where.Path) : null;
                acl = GetXattr(port, Acl.AccessName);
                if (st.Mode.IsDirectory()) dacl = GetXattr(port, Acl.DefaultName);
                door = $"inside {where.Record!.MountPoint} (io_stat, O_NOTRANS)";
                break;
            }
            case NodeKind.MountPoint:
                // The node under a Linux mount is hidden by it; what is known is the mount record.
                st = LinuxStat(where.Path);
                passive = null;
                if (where.IsActive) active = string.Join(' ', where.Record!.Argv);
                else if (where.Record is not null) active = "(dead: " + string.Join(' ', where.Record.Argv) + ")";
                door = "Linux mount point of a translator (the stat of its root)";
                break;
            default:
                if (!File.Exists(where.Path) && !Directory.Exists(where.Path)) throw CommandFailed.On(where.Path, Errno.ENOENT);
                st = LinuxStat(where.Path);
                passive = LinuxPassive.Get(where.Path);
                acl = Native.GetXattr(where.Path, "system.posix_acl_access", out _);
                if (st.Mode.IsDirectory()) dacl = Native.GetXattr(where.Path, "system.posix_acl_default", out _);
                door = "Linux (passive record in the node's xattr)";
                break;
        }
        if (passive is not null) st.Mode |= FileMode.PassiveTranslator;
        if (active is not null) st.Mode |= FileMode.ActiveTranslator;
        var sb = new StringBuilder();
        if (!translatorOnly)
        {
            uint mode = (uint)st.Mode;
            sb.Append($"  File: {where.Path}\n");
            sb.Append($"  Type: {TypeName(st.Mode)}  Mode: {Convert.ToString(mode & 0xFFF, 8).PadLeft(4, '0')} ({ModeString(st.Mode)})  Hurd mode: 0x{mode:x8}\n");
            sb.Append($"  Size: {st.Size}  Blocks: {st.Blocks}  IO Block: {st.Blksize}\n");
            sb.Append($"Device: {st.Dev:x}  Inode: {st.Ino}  Generation: {st.Generation}  Links: {st.Nlink}\n");
            sb.Append($"   Uid: {st.Uid}  Gid: {st.Gid}  Author: {st.Author}\n");
            sb.Append($"Access: {Time(st.Atime)}\nModify: {Time(st.Mtime)}\nChange: {Time(st.Ctime)}\n");
            if (acl is { Length: > Acl.HeaderSize } && Acl.Validate(acl) == Errno.OK) sb.Append($"   ACL: {Acl.Format(acl)}\n");
            if (dacl is { Length: > Acl.HeaderSize } && Acl.Validate(dacl) == Errno.OK) sb.Append($"Default ACL: {Acl.Format(dacl)}\n");
            sb.Append($"  Door: {door}\n");
        }
        sb.Append("translated: ").Append(Translated(st.Mode, passive, active)).Append('\n');
        return sb.ToString();
    }

    /// <summary>An xattr of the node behind <paramref name="port"/>, or null when it has none (or cannot be read).</summary>
    static byte[]? GetXattr(Hurd.Ipc.Ports.SendRight port, ReadOnlySpan<byte> name)
    {
        var buf = new byte[64 * 1024];
        var e = new Hurd.Interfaces.FsClient(port) { TimeoutMs = Tree.CallTimeoutMs }.file_get_xattr(name, buf.Length, buf, out int n, out _);
        return e == Errno.OK ? buf[..n] : null;
    }

    /// <summary>The "translated:" value: passive record, then whether a translator is active.</summary>
    public static string Translated(FileMode mode, string[]? passive, string? active)
    {
        bool p = (mode & FileMode.PassiveTranslator) != 0, a = (mode & FileMode.ActiveTranslator) != 0;
        if (p && passive is not null)
            return "passive " + string.Join(' ', passive) + (a ? ", active" : "");
        if (p) return a ? "passive, active" : "passive";
        if (a) return "active" + (active is null ? "" : " " + active);
        return "no";
    }

    static string TypeName(FileMode m) => m.Type() switch
    {
        FileMode.Directory => "directory",
        FileMode.Regular => "regular file",
        FileMode.Symlink => "symbolic link",
        FileMode.CharDevice => "character device",
        FileMode.BlockDevice => "block device",
        FileMode.Fifo => "fifo",
        FileMode.Socket => "socket",
        _ => "unknown",
    };

    static string ModeString(FileMode m)
    {
        uint v = (uint)m;
        var c = new char[10];
        c[0] = m.Type() switch
        {
            FileMode.Directory => 'd', FileMode.Symlink => 'l', FileMode.CharDevice => 'c', FileMode.BlockDevice => 'b',
            FileMode.Fifo => 'p', FileMode.Socket => 's', _ => '-',
        };
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) c[1 + i] = (v & (1u << (8 - i))) != 0 ? rwx[i] : '-';
        if ((v & 0x800) != 0) c[3] = (v & 0x40) != 0 ? 's' : 'S';
        if ((v & 0x400) != 0) c[6] = (v & 0x8) != 0 ? 's' : 'S';
        if ((v & 0x200) != 0) c[9] = (v & 0x1) != 0 ? 't' : 'T';
        return new string(c);
    }

    static string Time(TimeSpec t) =>
        DateTimeOffset.FromUnixTimeSeconds(t.Sec).AddTicks(t.Nsec / 100).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss.fffffff zzz");

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat(string path, Span<byte> buf);

    /// <summary>A Linux lstat as a Hurd stat (no translator bits). struct stat as glibc lays it out on x86-64 and on
    /// the generic (arm64) ABI.</summary>
    static Stat LinuxStat(string path)
    {
        Span<byte> b = stackalloc byte[256];
        if (lstat(path, b) != 0) throw CommandFailed.On(path, (Errno)Marshal.GetLastPInvokeError());
        var st = new Stat
        {
            Dev = BinaryPrimitives.ReadUInt64LittleEndian(b),
            Ino = BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        };
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        if (x64)
        {
            st.Nlink = (uint)BinaryPrimitives.ReadUInt64LittleEndian(b[16..]);
            st.Mode = (FileMode)BinaryPrimitives.ReadUInt32LittleEndian(b[24..]);
            st.Uid = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]);
            st.Gid = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]);
            st.Rdev = BinaryPrimitives.ReadUInt64LittleEndian(b[40..]);
            st.Size = BinaryPrimitives.ReadInt64LittleEndian(b[48..]);
            st.Blksize = (int)BinaryPrimitives.ReadInt64LittleEndian(b[56..]);
        }
        else
        {
            st.Mode = (FileMode)BinaryPrimitives.ReadUInt32LittleEndian(b[16..]);
            st.Nlink = BinaryPrimitives.ReadUInt32LittleEndian(b[20..]);
            st.Uid = BinaryPrimitives.ReadUInt32LittleEndian(b[24..]);
            st.Gid = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]);
            st.Rdev = BinaryPrimitives.ReadUInt64LittleEndian(b[32..]);
            st.Size = BinaryPrimitives.ReadInt64LittleEndian(b[48..]);
            st.Blksize = BinaryPrimitives.ReadInt32LittleEndian(b[56..]);
        }
        st.Blocks = BinaryPrimitives.ReadInt64LittleEndian(b[64..]);
        st.Atime = new TimeSpec(BinaryPrimitives.ReadInt64LittleEndian(b[72..]), BinaryPrimitives.ReadInt64LittleEndian(b[80..]));
        st.Mtime = new TimeSpec(BinaryPrimitives.ReadInt64LittleEndian(b[88..]), BinaryPrimitives.ReadInt64LittleEndian(b[96..]));
        st.Ctime = new TimeSpec(BinaryPrimitives.ReadInt64LittleEndian(b[104..]), BinaryPrimitives.ReadInt64LittleEndian(b[112..]));
        st.Author = st.Uid;
        return st;
    }
}
