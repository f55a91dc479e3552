using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>
/// The POSIX permission rules, written once for every translator (the Hurd's libfshelp
/// <c>fshelp_access</c>, <c>fshelp_isowner</c>, <c>fshelp_checkdirmod</c>). Every check takes the caller's
/// <see cref="Identity"/> and the node's attributes as a <see cref="Stat"/>.
/// </summary>
public static class Permissions
{
    /// <summary>
    /// May <paramref name="who"/> access a node with attributes <paramref name="st"/> as <paramref name="want"/>?
    /// The owner's bits apply if the caller has the owner's uid, else the group's bits if it has the group
    /// (primary or supplementary), else the others' bits. Root may do anything, except execute a non-directory
    /// that has no execute bit at all. EACCES when denied.
    /// </summary>
    public static Errno Check(Identity who, in Stat st, Access want)
    {
        uint mode = (uint)st.Mode;
        if (who.IsRoot)
        {
            if ((want & Access.Exec) != 0 && !st.Mode.IsDirectory() && (mode & 0x49) == 0) return Errno.EACCES;
            return Errno.OK;
        }
        uint bits;
        if (who.HasUid(st.Uid)) bits = (mode >> 6) & 7;
        else if (who.HasGid(st.Gid)) bits = (mode >> 3) & 7;
        else bits = mode & 7;
        return ((uint)want & ~bits) == 0 ? Errno.OK : Errno.EACCES;
    }

    /// <summary>fshelp_isowner: the caller owns the node or is root.</summary>
    public static bool IsOwner(Identity who, in Stat st) => who.IsRoot || who.HasUid(st.Uid);

    /// <summary>
    /// fshelp_checkdirmod for sticky directories: may <paramref name="who"/> remove or replace the entry for
    /// <paramref name="victim"/> in <paramref name="dir"/>? In a sticky directory only the owner of the entry,
    /// the owner of the directory and root may. EPERM when denied. (Write and search permission on the
    /// directory are checked separately.)
    /// </summary>
    public static Errno CheckSticky(Identity who, in Stat dir, in Stat victim)
    {
        if ((dir.Mode & FileMode.Sticky) == 0 || who.IsRoot) return Errno.OK;
        if (who.HasUid(dir.Uid) || who.HasUid(victim.Uid)) return Errno.OK;
        return Errno.EPERM;
    }

    /// <summary>
    /// The attributes of a node <paramref name="who"/> creates in directory <paramref name="dir"/> with
    /// <paramref name="mode"/> (type and permissions, umask already applied): owned by the caller; the group is the
    /// directory's if the directory is setgid (and a new directory then is setgid too), else the caller's.
    /// A non-root caller who is not in the resulting group loses S_ISGID on a non-directory (as Linux's inode_init_owner).
    /// </summary>
    public static NewNode NewNodeIn(Identity who, in Stat dir, FileMode mode, ulong rdev = 0)
    {
        uint gid = who.Gid;
        if ((dir.Mode & FileMode.SetGid) != 0)
        {
            gid = dir.Gid;
            if (mode.IsDirectory()) mode |= FileMode.SetGid;
        }
        if (!mode.IsDirectory() && (mode & FileMode.SetGid) != 0 && !who.IsRoot && !who.HasGid(gid))
            mode &= ~FileMode.SetGid;
        return new NewNode(mode, who.Uid, gid, rdev);
    }

    /// <summary>
    /// The rule for chmod: only the owner or root (else EPERM). A non-root caller who is not in the file's group
    /// cannot set S_ISGID (it is silently cleared, as Linux does). Returns the permission bits to store in
    /// <paramref name="result"/>.
    /// </summary>
    /// <remarks>One exception: a caller who may write the file may also clear its S_ISUID / S_ISGID bits and change
    /// nothing else. Linux drops those bits itself when a non-owner writes or truncates a set-id file; through FUSE the
    /// kernel sends that drop as a chmod by the writer (SETATTR with the new mode), and the write must not fail. It
    /// gives the writer nothing a write would not (a write drops the same bits).</remarks>
    public static Errno Chmod(Identity who, in Stat st, FileMode perm, out FileMode result)
    {
        result = perm & FileMode.PermMask;
        if (!IsOwner(who, st))
        {
            var cur = st.Mode & FileMode.PermMask;
            const FileMode setId = FileMode.SetUid | FileMode.SetGid;
            bool dropOnly = (result & ~setId) == (cur & ~setId) && (result & setId & ~cur) == 0 && result != cur;
            if (dropOnly && Check(who, st, Access.Write) == Errno.OK) return Errno.OK;
            return Errno.EPERM;
        }
        if (!who.IsRoot && !who.HasGid(st.Gid)) result &= ~FileMode.SetGid;
        return Errno.OK;
    }

    /// <summary>
    /// The rule for chown (uid or gid <see cref="uint.MaxValue"/> = unchanged): root may change anything; the owner
    /// may only change the group, to one of its own groups; everyone else gets EPERM. For non-directories, S_ISUID is
    /// cleared, and S_ISGID when group-execute is set or (non-root) when the caller is not in the file's group, as
    /// Linux's chown does for every caller, even chown(f, -1, -1); so <paramref name="change"/> may carry a new mode as
    /// well; a caller who neither owns the file nor is root gets EPERM for that drop, even with both ids -1.
    /// </summary>
    public static Errno Chown(Identity who, in Stat st, uint uid, uint gid, out SetAttr change)
    {
        change = default;
        bool owner = who.HasUid(st.Uid);
        if (uid != uint.MaxValue && !who.IsRoot && !(owner && uid == st.Uid)) return Errno.EPERM;
        if (gid != uint.MaxValue && !who.IsRoot && !(owner && (gid == st.Gid || who.HasGid(gid)))) return Errno.EPERM;
        if (uid != uint.MaxValue) { change.Valid |= AttrMask.Uid; change.Uid = uid; }
        if (gid != uint.MaxValue) { change.Valid |= AttrMask.Gid; change.Gid = gid; }
        if (!st.Mode.IsDirectory())
        {
            bool kill = KillSuid(st.Mode, out var m);
            if ((m & FileMode.SetGid) != 0 && !who.IsRoot && !who.HasGid(st.Gid)) { m &= ~FileMode.SetGid; kill = true; }
            if (kill)
            {
                // The drop is a mode change (Linux's notify_change makes it ATTR_MODE before checking): EPERM for a
                // caller who neither owns the file nor is root, which can only be chown(f, -1, -1) here.
                if (!who.IsRoot && !owner) return Errno.EPERM;
                change.Valid |= AttrMask.Mode;
                change.Mode = m;
            }
        }
        return Errno.OK;
    }

    /// <summary>
    /// The set-id bits a write or truncate by <paramref name="who"/> drops (Linux's file_remove_privs with
    /// setattr_should_drop_sgid): S_ISUID always, S_ISGID when group-execute is set or the caller is not in the file's
    /// group; root drops nothing. <paramref name="perm"/> is the result; false when nothing changes.
    /// </summary>
    public static bool KillPriv(Identity who, in Stat st, out FileMode perm)
    {
        perm = st.Mode & FileMode.PermMask;
        if (who.IsRoot) return false;
        bool kill = KillSuid(st.Mode, out perm);
        if ((perm & FileMode.SetGid) != 0 && !who.HasGid(st.Gid)) { perm &= ~FileMode.SetGid; kill = true; }
        return kill;
    }

    /// <summary>Linux's <c>fs.protected_hardlinks</c> (read once; on when it cannot be read): whether
    /// <see cref="CheckLinkSource"/> applies.</summary>
    public static bool ProtectedHardlinks { get; set; } = ReadSysctl("/proc/sys/fs/protected_hardlinks", true);

    /// <summary>
    /// may_linkat with fs.protected_hardlinks: a caller who neither owns <paramref name="target"/> nor is root may link
    /// it only if it is a regular file without S_ISUID and without executable S_ISGID that the caller may read and
    /// write. EPERM otherwise. Checked after the new name's EEXIST and before write permission on the directory.
    /// </summary>
    public static Errno CheckLinkSource(Identity who, in Stat target)
    {
        if (!ProtectedHardlinks || IsOwner(who, target)) return Errno.OK;
        var m = target.Mode;
        if (!m.IsRegular() || (m & FileMode.SetUid) != 0 || (m & (FileMode.SetGid | (FileMode)0x8)) == (FileMode.SetGid | (FileMode)0x8))
            return Errno.EPERM;
        return Check(who, target, Access.Read | Access.Write) == Errno.OK ? Errno.OK : Errno.EPERM;
    }

    static bool ReadSysctl(string path, bool fallback)
    {
        try { return File.ReadAllText(path).Trim() != "0"; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return fallback; }
    }

    /// <summary>
    /// Whether a write (or truncate, or chown) must drop set-id bits: S_ISUID always, S_ISGID when group-execute
    /// is set (without it S_ISGID means mandatory locking and stays). <paramref name="perm"/> is the result.
    /// </summary>
    public static bool KillSuid(FileMode mode, out FileMode perm)
    {
        perm = mode & FileMode.PermMask;
        if ((perm & FileMode.SetUid) != 0) perm &= ~FileMode.SetUid;
        if ((perm & (FileMode.SetGid | (FileMode)0x8)) == (FileMode.SetGid | (FileMode)0x8)) perm &= ~FileMode.SetGid;
        return perm != (mode & FileMode.PermMask);
    }

    /// <summary>
    /// The rule for utimensat: setting explicit times needs ownership or root (EPERM); setting both to the current
    /// time (UTIME_NOW, or a NULL times argument) also lets anyone with write permission do it (else EACCES).
    /// Both UTIME_OMIT is allowed and does nothing. Nanoseconds out of range give EINVAL.
    /// </summary>
    public static Errno Utimens(Identity who, in Stat st, in TimeSpec atime, in TimeSpec mtime)
    {
        if (!ValidTime(atime) || !ValidTime(mtime)) return Errno.EINVAL;
        bool aOmit = atime.Nsec == TimeSpec.UtimeOmit, mOmit = mtime.Nsec == TimeSpec.UtimeOmit;
        if (aOmit && mOmit) return Errno.OK;
        bool explicitTime = (!aOmit && atime.Nsec != TimeSpec.UtimeNow) || (!mOmit && mtime.Nsec != TimeSpec.UtimeNow);
        if (IsOwner(who, st)) return Errno.OK;
        if (explicitTime) return Errno.EPERM;
        return Check(who, st, Access.Write);
    }

    static bool ValidTime(in TimeSpec t) =>
        t.Nsec == TimeSpec.UtimeNow || t.Nsec == TimeSpec.UtimeOmit || (t.Nsec >= 0 && t.Nsec < 1_000_000_000);
}
