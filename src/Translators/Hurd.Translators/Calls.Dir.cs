using Hurd.Ipc.Abi;

namespace Hurd.Translators;

public static partial class Calls
{
    // The checks come in Linux's order, so that when several errors apply the same one is reported: the lookup of the
    // name needs search permission (EACCES) and finds it or not (ENOENT / EEXIST); only then is write permission on
    // the directory checked (may_create / may_delete), then the sticky rule, then the types.

    /// <summary>Checks that <paramref name="dir"/> is a directory the caller may search. ENOTDIR, EACCES.</summary>
    static Errno CheckDirSearch(Protid who, Node dir, out IDirectory d, out Stat st)
    {
        d = null!;
        var e = Stat(who, dir, out st);
        if (e != Errno.OK) return e;
        if (dir is not IDirectory dd || !st.Mode.IsDirectory()) return Errno.ENOTDIR;
        d = dd;
        return CheckAccess(who.User, dir, st, Access.Exec);
    }

    /// <summary>may_create: the name must be new (EEXIST) and the directory writable (EACCES).</summary>
    static Errno CheckCreate(Protid who, IDirectory d, in Stat st, ReadOnlySpan<byte> name)
    {
        if (IsDot(name) || IsDotDot(name) || d.Lookup(name, out _) == Errno.OK) return Errno.EEXIST;
        return CheckAccess(who.User, (Node)d, st, Access.Write | Access.Exec);
    }

    /// <summary>dir_mkdir: creates directory <paramref name="name"/> in the protid's directory with <paramref name="mode"/>
    /// (permission bits, umask applied), owned by the caller, group and S_ISGID inherited from a setgid parent.
    /// EEXIST for "." and "..", name errors as <see cref="CheckName"/>, ENOTDIR, EACCES, and the filesystem's errors.</summary>
    public static Errno DirMkdir(Protid dir, ReadOnlySpan<byte> name, FileMode mode, out Node? node)
    {
        node = null;
        var e = CheckName(name);
        if (e != Errno.OK) return e;
        e = CheckDirSearch(dir, dir.Node, out var d, out var st);
        if (e != Errno.OK) return e;
        e = CheckCreate(dir, d, st, name);
        if (e != Errno.OK) return e;
        var attrs = Permissions.NewNodeIn(dir.User, st, FileMode.Directory | (mode & FileMode.PermMask));
        var acl = InheritAcl(dir.Node, ref attrs);
        e = d.Mkdir(name, attrs, out node);
        if (e == Errno.OK) acl.Apply(node);
        return e;
    }

    /// <summary>mknod (and creat without open): creates a regular file, FIFO, socket, character or block device named by
    /// the type in <paramref name="mode"/>; <paramref name="rdev"/> for devices. Creating a device needs root (EPERM).
    /// EINVAL for a directory, symlink or unknown type; EEXIST, name errors, ENOTDIR, EACCES.</summary>
    public static Errno DirMknod(Protid dir, ReadOnlySpan<byte> name, FileMode mode, ulong rdev, out Node? node)
    {
        node = null;
        var e = CheckName(name);
        if (e != Errno.OK) return e;
        var type = mode.Type();
        if (type == FileMode.None) type = FileMode.Regular;
        if (type is not (FileMode.Regular or FileMode.Fifo or FileMode.Socket or FileMode.CharDevice or FileMode.BlockDevice))
            return Errno.EINVAL;
        e = CheckDirSearch(dir, dir.Node, out var d, out var st);
        if (e != Errno.OK) return e;
        e = CheckCreate(dir, d, st, name);
        if (e != Errno.OK) return e;
        if (type is FileMode.CharDevice or FileMode.BlockDevice && !dir.User.IsRoot) return Errno.EPERM;
        if (type is not (FileMode.CharDevice or FileMode.BlockDevice)) rdev = 0;
        var attrs = Permissions.NewNodeIn(dir.User, st, type | (mode & FileMode.PermMask), rdev);
        var acl = InheritAcl(dir.Node, ref attrs);
        e = d.Create(name, attrs, out node);
        if (e == Errno.OK) acl.Apply(node);
        return e;
    }

    /// <summary>symlink: creates <paramref name="name"/> pointing at <paramref name="target"/> (mode 0777, owned by the
    /// caller). ENOENT for an empty target, ENAMETOOLONG for one of PATH_MAX bytes or more; EEXIST, name errors, ENOTDIR, EACCES.</summary>
    public static Errno DirSymlink(Protid dir, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out Node? node)
    {
        node = null;
        var e = CheckName(name);
        if (e != Errno.OK) return e;
        if (target.IsEmpty) return Errno.ENOENT;
        if (target.Length >= Limits.PathMax) return Errno.ENAMETOOLONG;
        e = CheckDirSearch(dir, dir.Node, out var d, out var st);
        if (e != Errno.OK) return e;
        e = CheckCreate(dir, d, st, name);
        if (e != Errno.OK) return e;
        return d.Symlink(name, target, Permissions.NewNodeIn(dir.User, st, FileMode.Symlink | (FileMode)0x1ff), out node);
    }

    /// <summary>dir_link: makes <paramref name="name"/> another link to <paramref name="target"/>. EPERM for a directory
    /// and under fs.protected_hardlinks (<see cref="Permissions.CheckLinkSource"/>), EEXIST (also for "." and ".."),
    /// EXDEV across filesystems, name errors, ENOTDIR, EACCES.</summary>
    public static Errno DirLink(Protid dir, Node target, ReadOnlySpan<byte> name)
    {
        var e = CheckName(name);
        if (e != Errno.OK) return e;
        e = CheckDirSearch(dir, dir.Node, out var d, out var st);
        if (e != Errno.OK) return e;
        // Linux's order: the new name (EEXIST), may_linkat (EPERM), then may_create (EACCES).
        if (IsDot(name) || IsDotDot(name) || d.Lookup(name, out _) == Errno.OK) return Errno.EEXIST;
        e = Stat(dir, target, out var tst);
        if (e != Errno.OK) return e;
        e = Permissions.CheckLinkSource(dir.User, tst);
        if (e != Errno.OK) return e;
        e = CheckCreate(dir, d, st, name);
        if (e != Errno.OK) return e;
        if (tst.Mode.IsDirectory()) return Errno.EPERM;
        return d.Link(name, target);
    }

    /// <summary>dir_unlink: removes a non-directory. EISDIR for "." / ".." and directories; EPERM in a sticky directory
    /// unless the caller owns the entry or the directory (or is root); ENOENT, name errors, ENOTDIR, EACCES.</summary>
    public static Errno DirUnlink(Protid dir, ReadOnlySpan<byte> name)
    {
        var e = CheckName(name);
        if (e != Errno.OK) return e;
        e = CheckDirSearch(dir, dir.Node, out var d, out var st);
        if (e != Errno.OK) return e;
        if (IsDot(name) || IsDotDot(name)) return Errno.EISDIR;
        e = d.Lookup(name, out var victim);
        if (e != Errno.OK) return e;
        e = Stat(dir, victim!, out var vst);
        if (e != Errno.OK) return e;
        e = CheckAccess(dir.User, dir.Node, st, Access.Write | Access.Exec);
        if (e != Errno.OK) return e;
        e = Permissions.CheckSticky(dir.User, st, vst);
        if (e != Errno.OK) return e;
        if (vst.Mode.IsDirectory()) return Errno.EISDIR;
        return d.Unlink(name);
    }

    /// <summary>dir_rmdir: removes an empty directory. EINVAL for ".", ENOTEMPTY for "..", ENOTDIR for a non-directory,
    /// EPERM under the sticky rule, ENOENT, ENOTEMPTY, EBUSY for a translator's root, name errors, EACCES.</summary>
    public static Errno DirRmdir(Protid dir, ReadOnlySpan<byte> name)
    {
        var e = CheckName(name);
        if (e != Errno.OK) return e;
        e = CheckDirSearch(dir, dir.Node, out var d, out var st);
        if (e != Errno.OK) return e;
        if (IsDot(name)) return Errno.EINVAL;
        if (IsDotDot(name)) return Errno.ENOTEMPTY;
        e = d.Lookup(name, out var victim);
        if (e != Errno.OK) return e;
        e = Stat(dir, victim!, out var vst);
        if (e != Errno.OK) return e;
        e = CheckAccess(dir.User, dir.Node, st, Access.Write | Access.Exec);
        if (e != Errno.OK) return e;
        e = Permissions.CheckSticky(dir.User, st, vst);
        if (e != Errno.OK) return e;
        if (!vst.Mode.IsDirectory()) return Errno.ENOTDIR;
        return d.Rmdir(name);
    }

    /// <summary>
    /// dir_rename with renameat2 flags, checked in the order of Linux's do_renameat2 and vfs_rename: EINVAL for
    /// NOREPLACE with EXCHANGE or unknown flags; search permission on both directories; EBUSY for "." / ".." on either
    /// side; ENOENT for a missing source; EEXIST (NOREPLACE) / ENOENT (EXCHANGE) for the target; nothing for two links
    /// of one node; write permission on both directories and the sticky rule for the source and the target entry;
    /// ENOTDIR / EISDIR when a directory would replace a non-directory or the reverse; a directory that changes parent
    /// must itself be writable (its ".." changes); then the filesystem (EXDEV across filesystems, EINVAL into its own
    /// subtree, ENOTEMPTY; see <see cref="IDirectory.Rename"/>).
    /// </summary>
    public static Errno DirRename(Protid fromDir, ReadOnlySpan<byte> oldName, Protid toDir, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange)) != 0) return Errno.EINVAL;
        if ((flags & RenameFlags.NoReplace) != 0 && (flags & RenameFlags.Exchange) != 0) return Errno.EINVAL;
        var e = CheckName(oldName);
        if (e != Errno.OK) return e;
        e = CheckName(newName);
        if (e != Errno.OK) return e;
        e = CheckDirSearch(fromDir, fromDir.Node, out var sd, out var sst);
        if (e != Errno.OK) return e;
        e = CheckDirSearch(toDir, toDir.Node, out var td, out var tst);
        if (e != Errno.OK) return e;
        if (IsDot(oldName) || IsDotDot(oldName) || IsDot(newName) || IsDotDot(newName)) return Errno.EBUSY;
        e = sd.Lookup(oldName, out var src);
        if (e != Errno.OK) return e;
        bool exchange = (flags & RenameFlags.Exchange) != 0;
        if (td.Lookup(newName, out var victim) != Errno.OK) victim = null;
        if (victim is not null && (flags & RenameFlags.NoReplace) != 0) return Errno.EEXIST;
        if (victim is null && exchange) return Errno.ENOENT;
        if (fromDir.Node != toDir.Node)
        {
            // Linux's lock_rename "trap": the source may not be an ancestor of the target's directory (EINVAL), the
            // target may not be an ancestor of the source's directory (ENOTEMPTY; EINVAL for EXCHANGE).
            if (IsAncestorOrSelf(src!, toDir.Node)) return Errno.EINVAL;
            if (victim is not null && IsAncestorOrSelf(victim, fromDir.Node)) return exchange ? Errno.EINVAL : Errno.ENOTEMPTY;
        }
        if (victim == src) return Errno.OK; // both names link the same node: nothing to do
        e = Stat(fromDir, src!, out var srcSt);
        if (e != Errno.OK) return e;
        bool srcDir = srcSt.Mode.IsDirectory();
        // may_delete on the source
        e = CheckAccess(fromDir.User, fromDir.Node, sst, Access.Write | Access.Exec);
        if (e != Errno.OK) return e;
        e = Permissions.CheckSticky(fromDir.User, sst, srcSt);
        if (e != Errno.OK) return e;
        // may_create, or may_delete on the target
        e = CheckAccess(toDir.User, toDir.Node, tst, Access.Write | Access.Exec);
        if (e != Errno.OK) return e;
        Stat vSt = default;
        if (victim is not null)
        {
            e = Stat(toDir, victim, out vSt);
            if (e != Errno.OK) return e;
            e = Permissions.CheckSticky(toDir.User, tst, vSt);
            if (e != Errno.OK) return e;
            if (!exchange)
            {
                if (srcDir && !vSt.Mode.IsDirectory()) return Errno.ENOTDIR;
                if (!srcDir && vSt.Mode.IsDirectory()) return Errno.EISDIR;
            }
        }
        // a directory that changes parent must be writable: its ".." changes
        if (fromDir.Node != toDir.Node)
        {
            if (srcDir && (e = CheckAccess(fromDir.User, src!, srcSt, Access.Write)) != Errno.OK) return e;
            if (exchange && victim is not null && vSt.Mode.IsDirectory()
                && (e = CheckAccess(toDir.User, victim, vSt, Access.Write)) != Errno.OK) return e;
        }
        return sd.Rename(oldName, toDir.Node, newName, flags);
    }

    /// <summary>True when <paramref name="ancestor"/> is <paramref name="node"/> or a directory above it, found by
    /// following ".." (which a filesystem's root answers with itself). Bounded, in case a filesystem is inconsistent.</summary>
    static bool IsAncestorOrSelf(Node ancestor, Node node)
    {
        if (ancestor is not IDirectory) return false;
        for (int depth = 0; depth < 65536; depth++)
        {
            if (node == ancestor) return true;
            if (node is not IDirectory d || d.Lookup(".."u8, out var up) != Errno.OK || up is null || up == node) return false;
            node = up;
        }
        return false;
    }

    /// <summary>dir_readdir: entries from <paramref name="cookie"/> into <paramref name="sink"/> (see
    /// <see cref="IDirectory.ReadDir"/>). Needs read permission on the directory, checked at open (EBADF if the protid is
    /// not open for reading); ENOTDIR for a non-directory; EINVAL for a negative cookie.</summary>
    public static Errno DirReaddir(Protid dir, long cookie, IDirEntrySink sink)
    {
        if (dir.Node is not IDirectory d) return Errno.ENOTDIR;
        if (!dir.File.CanRead) return Errno.EBADF;
        if (cookie < 0) return Errno.EINVAL;
        return d is IReadDirAs a ? a.ReadDir(dir, cookie, sink) : d.ReadDir(cookie, sink);
    }

    /// <summary>readlink: the target of a symlink. EINVAL when the node is not a symlink.</summary>
    public static Errno Readlink(Protid who, Node node, out ReadOnlyMemory<byte> target)
    {
        target = default;
        return node is ISymlink s ? s.Readlink(out target) : Errno.EINVAL;
    }
}
