using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>
/// The filesystem-independent half of every fs / io / fsys routine (what libdiskfs's <c>diskfs_S_*</c> functions do
/// before they call the filesystem): argument validation, permission checks against the protid's identity, the
/// POSIX attribute rules, O_APPEND and the file pointer, then the node's optional operation or its documented default.
/// The serving layer (IPC, FUSE) calls these; a translator only implements node interfaces.
/// </summary>
/// <remarks>Method names follow the Hurd RPCs (<c>io_read</c> is <see cref="IoRead"/>, <c>dir_mkdir</c> is
/// <see cref="DirMkdir"/>). Errors are <see cref="Errno"/> values; nothing here throws for a client's mistake.</remarks>
public static partial class Calls
{
    /// <summary>The st_dev of nodes that report none: "hurd" and the server's pid.</summary>
    public static readonly ulong ProcessFsid = 0x6875_7264_0000_0000UL | (uint)Environment.ProcessId;

    /// <summary>io_stat: the node's attributes (see <see cref="IStatable"/> for the defaults), with S_IATRANS /
    /// S_IPTRANS set when the node has an active / passive translator.</summary>
    public static Errno Stat(Protid who, Node node, out Stat st)
    {
        st = default;
        st.Ino = node.Ino;
        st.Generation = node.Generation;
        st.Nlink = 1;
        st.Blksize = 4096;
        st.Mode = node.IsDirectory ? FileMode.Directory | (FileMode)0x16d : FileMode.Regular | (FileMode)0x124;
        if (node.AsStatable is { } s)
        {
            var e = s.Stat(who, ref st);
            if (e != Errno.OK) return e;
        }
        // A node that names no filesystem gets this process's, as libnetfs and libdiskfs use the server's pid:
        // the FUSE bridge tells stacked translators apart by st_dev + st_ino, so two translators both answering
        // st_dev 0 would have their roots (both inode 1) taken for one node.
        if (st.Dev == 0) st.Dev = ProcessFsid;
        if (node.ActiveTranslator is not null) st.Mode |= FileMode.ActiveTranslator;
        if (node.AsTranslatable is { } t && t.HasPassiveTranslator) st.Mode |= FileMode.PassiveTranslator;
        return Errno.OK;
    }

    /// <summary>io_stat on the protid's own node; a directory with an access ACL beyond its mode also has
    /// <see cref="Acl.ExtendedAclMode"/>.</summary>
    public static Errno IoStat(Protid who, out Stat st)
    {
        var e = Stat(who, who.Node, out st);
        if (e == Errno.OK) MarkExtendedAcl(who.Node, ref st);
        return e;
    }

    /// <summary>
    /// Opens <paramref name="node"/> for <paramref name="user"/> (the second half of dir_lookup): checks the open modes
    /// against the node's permissions (O_READ needs read, O_WRITE and O_TRUNC need write, O_EXEC needs execute on a
    /// regular file; none is checked for a node this lookup <paramref name="created"/>), refuses writing a directory
    /// (EISDIR), applies O_TRUNC to a regular file, makes the OpenFile and protid and calls <see cref="IOpenHook"/>.
    /// </summary>
    public static Errno Open(Identity user, Node node, OpenFlags flags, bool created, out Protid? protid)
    {
        protid = null;
        var probe = new Protid(user, Probe.For(node));
        var e = Stat(probe, node, out var st);
        if (e != Errno.OK) return e;
        bool isDir = st.Mode.IsDirectory();
        if (isDir && (flags & (OpenFlags.Write | OpenFlags.Truncate)) != 0) return Errno.EISDIR;
        if (!created)
        {
            Access want = Access.None;
            if ((flags & OpenFlags.Read) != 0) want |= Access.Read;
            if ((flags & (OpenFlags.Write | OpenFlags.Truncate)) != 0) want |= Access.Write;
            if ((flags & OpenFlags.Exec) != 0)
            {
                if (!st.Mode.IsRegular()) return Errno.EACCES;
                want |= Access.Exec;
            }
            e = CheckAccess(user, node, st, want);
            if (e != Errno.OK) return e;
        }
        if ((flags & OpenFlags.Truncate) != 0 && st.Mode.IsRegular() && !created)
        {
            if (node is not ITruncatable t) return Errno.EINVAL;
            e = t.Truncate(0);
            if (e != Errno.OK) return e;
            // Linux's O_TRUNC sets mtime and ctime even on an empty file, where a node may leave them (truncate(2) to the
            // same size does on tmpfs).
            if (st.Size == 0 && node is IAttributes a) a.SetAttributes(new SetAttr { Valid = AttrMask.Mtime, Mtime = TimeSpec.Now() });
            if (!user.IsRoot) DropSuid(user, node, st);
        }
        var file = new OpenFile(node, flags);
        protid = new Protid(user, file);
        if (node.AsOpenHook is { } h)
        {
            e = h.Open(file);
            if (e != Errno.OK) { protid.Release(); protid = null; return e; }
        }
        if (node.AsOpenerHook is { } oh)
        {
            e = oh.Opened(protid);
            if (e != Errno.OK) { protid.Release(); protid = null; return e; }
        }
        return Errno.OK;
    }

    /// <summary>
    /// dir_lookup and open in one call, for callers that do not cross translators (tests, the FUSE bridge's fast
    /// path): <see cref="DirLookup"/>, then <see cref="Open"/> when the walk is done. When the walk ends in a retry
    /// (translator, REAUTH, MAGICAL), <paramref name="protid"/> is null and <paramref name="result"/> says what to do.
    /// </summary>
    public static Errno DirLookupOpen(Protid dir, Node root, ReadOnlySpan<byte> path, OpenFlags flags, FileMode mode,
        out LookupResult result, out Protid? protid)
    {
        protid = null;
        var e = DirLookup(dir, root, path, flags, mode, out result);
        if (e != Errno.OK || !result.IsDone) return e;
        return Open(dir.User, result.Node!, flags, result.Created, out protid);
    }

    /// <summary>Checks a single name given to a directory mutator: ENOENT for empty, EINVAL for one containing '/' or NUL,
    /// ENAMETOOLONG over NAME_MAX bytes.</summary>
    public static Errno CheckName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty) return Errno.ENOENT;
        if (name.Length > Limits.NameMax) return Errno.ENAMETOOLONG;
        if (name.IndexOfAny((byte)'/', (byte)0) >= 0) return Errno.EINVAL;
        return Errno.OK;
    }

    static bool IsDot(ReadOnlySpan<byte> n) => n.Length == 1 && n[0] == (byte)'.';
    static bool IsDotDot(ReadOnlySpan<byte> n) => n.Length == 2 && n[0] == (byte)'.' && n[1] == (byte)'.';

    /// <summary>Drops S_ISUID (and S_ISGID with group-execute, or when the caller is not in the file's group) after a
    /// write or truncate by a non-root caller (<see cref="Permissions.KillPriv"/>).</summary>
    static void DropSuid(Identity who, Node node, in Stat st)
    {
        if (node.AsAttributes is { } a && Permissions.KillPriv(who, st, out var perm))
            a.SetAttributes(new SetAttr { Valid = AttrMask.Mode, Mode = perm });
    }

    /// <summary>Stat of a node on behalf of <paramref name="who"/> (a protid whose node may differ).</summary>
    static Errno StatAs(Protid who, Node node, out Stat st) => Stat(who, node, out st);

    /// <summary>A closed OpenFile used only to hand a <see cref="Protid"/> to <see cref="IStatable.Stat"/> during an open,
    /// before the real OpenFile exists. It does not count as an open of the node.</summary>
    static class Probe
    {
        public static OpenFile For(Node node) => OpenFile.Detached(node);
    }
}
