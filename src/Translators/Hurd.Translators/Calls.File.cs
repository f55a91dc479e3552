using Hurd.Ipc.Abi;

namespace Hurd.Translators;

public static partial class Calls
{
    /// <summary>file_chmod: owner or root only (EPERM); S_ISGID is dropped for a non-root caller outside the file's group
    /// (see <see cref="Permissions.Chmod"/>). EOPNOTSUPP when the node is not <see cref="IAttributes"/>.</summary>
    public static Errno FileChmod(Protid who, Node node, FileMode mode)
    {
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        e = Permissions.Chmod(who.User, st, mode, out var perm);
        if (e != Errno.OK) return e;
        if (node.AsAttributes is not { } a) return Errno.EOPNOTSUPP;
        e = a.SetAttributes(new SetAttr { Valid = AttrMask.Mode, Mode = perm });
        return e != Errno.OK ? e : ChmodAcl(node, perm);
    }

    /// <summary>file_chown (<see cref="uint.MaxValue"/> = unchanged): the rules of <see cref="Permissions.Chown"/>; set-id
    /// bits of a non-directory are dropped. EOPNOTSUPP when the node is not <see cref="IAttributes"/>.</summary>
    public static Errno FileChown(Protid who, Node node, uint uid, uint gid)
    {
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        e = Permissions.Chown(who.User, st, uid, gid, out var change);
        if (e != Errno.OK) return e;
        if (node.AsAttributes is not { } a) return Errno.EOPNOTSUPP;
        return a.SetAttributes(change);
    }

    /// <summary>file_utimens: the rules of <see cref="Permissions.Utimens"/>; UTIME_NOW becomes the current time,
    /// UTIME_OMIT leaves a time alone. EOPNOTSUPP when the node is not <see cref="IAttributes"/>.</summary>
    public static Errno FileUtimens(Protid who, Node node, TimeSpec atime, TimeSpec mtime)
    {
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        e = Permissions.Utimens(who.User, st, atime, mtime);
        // EACCES there is the mode's write check (setting both times to now); an ACL entry may grant write.
        if (e == Errno.EACCES) e = CheckAccess(who.User, node, st, Access.Write);
        if (e != Errno.OK) return e;
        var change = new SetAttr();
        var now = TimeSpec.Now();
        if (atime.Nsec != TimeSpec.UtimeOmit) { change.Valid |= AttrMask.Atime; change.Atime = atime.Nsec == TimeSpec.UtimeNow ? now : atime; }
        if (mtime.Nsec != TimeSpec.UtimeOmit) { change.Valid |= AttrMask.Mtime; change.Mtime = mtime.Nsec == TimeSpec.UtimeNow ? now : mtime; }
        if (change.Valid == AttrMask.None) return Errno.OK;
        if (node.AsAttributes is not { } a) return Errno.EOPNOTSUPP;
        return a.SetAttributes(change);
    }

    enum XattrNs { User, Trusted, Security, System }

    /// <summary>Linux's xattr_permission: which namespace, and may the caller read (or write) it on this node.</summary>
    static Errno XattrAccess(Protid who, Node node, ReadOnlySpan<byte> name, bool write)
    {
        if (name.IsEmpty) return Errno.EINVAL;
        if (name.Length > Limits.XattrNameMax) return Errno.ERANGE;
        XattrNs ns;
        int plen;
        if (name.StartsWith("user."u8)) { ns = XattrNs.User; plen = 5; }
        else if (name.StartsWith("trusted."u8)) { ns = XattrNs.Trusted; plen = 8; }
        else if (name.StartsWith("security."u8)) { ns = XattrNs.Security; plen = 9; }
        else if (name.StartsWith("system."u8)) { ns = XattrNs.System; plen = 7; }
        else return Errno.EOPNOTSUPP;
        if (name.Length == plen) return Errno.EINVAL;
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        switch (ns)
        {
            case XattrNs.System:
                // Only the POSIX ACLs (Calls.Acl.cs): anyone may read them, the owner and root set them.
                if (!Acl.IsAclName(name, out _)) return Errno.EOPNOTSUPP;
                return write && !Permissions.IsOwner(who.User, st) ? Errno.EPERM : Errno.OK;
            case XattrNs.Security:
                return write && !who.User.IsRoot ? Errno.EPERM : Errno.OK;
            case XattrNs.Trusted:
                return who.User.IsRoot ? Errno.OK : (write ? Errno.EPERM : Errno.ENODATA);
            default:
                if (!st.Mode.IsRegular() && !st.Mode.IsDirectory()) return write ? Errno.EPERM : Errno.ENODATA;
                if (write && st.Mode.IsDirectory() && (st.Mode & FileMode.Sticky) != 0 && !Permissions.IsOwner(who.User, st))
                    return Errno.EPERM;
                return CheckAccess(who.User, node, st, write ? Access.Write : Access.Read);
        }
    }

    /// <summary>getxattr: namespace rules (<c>user.</c> needs read permission and a regular file or directory;
    /// <c>trusted.</c> is root only, others get ENODATA; <c>security.</c> anyone; <c>system.</c> only the POSIX ACLs, anyone (else EOPNOTSUPP); other
    /// prefixes EOPNOTSUPP), then <see cref="IXattrs.Getxattr"/>. An empty <paramref name="value"/> asks for the size.
    /// ERANGE for a name over 255 bytes or a small buffer; EOPNOTSUPP when the node is not <see cref="IXattrs"/>.</summary>
    public static Errno Getxattr(Protid who, Node node, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        var e = XattrAccess(who, node, name, write: false);
        if (e != Errno.OK) return e;
        return node.AsXattrs is { } x ? x.Getxattr(name, value, out size) : Errno.EOPNOTSUPP;
    }

    /// <summary>setxattr: namespace rules (<c>user.</c> needs write permission, a regular file or directory, and in a
    /// sticky directory ownership; <c>trusted.</c> and <c>security.</c> need root, else EPERM; the POSIX ACLs need ownership and
    /// have the meaning of Calls.Acl.cs), E2BIG for a value over
    /// 64 KiB, EINVAL for both CREATE and REPLACE or unknown flags, then <see cref="IXattrs.Setxattr"/>.</summary>
    public static Errno Setxattr(Protid who, Node node, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        if ((flags & ~(XattrFlags.Create | XattrFlags.Replace)) != 0) return Errno.EINVAL;
        if (flags == (XattrFlags.Create | XattrFlags.Replace)) return Errno.EINVAL;
        if (value.Length > Limits.XattrSizeMax) return Errno.E2BIG;
        var e = XattrAccess(who, node, name, write: true);
        if (e != Errno.OK) return e;
        if (node is not IXattrs x) return Errno.EOPNOTSUPP;
        return Acl.IsAclName(name, out bool dflt) ? SetAcl(who, node, x, dflt, value, remove: false) : x.Setxattr(name, value, flags);
    }

    /// <summary>removexattr: the rules of <see cref="Setxattr"/>, then <see cref="IXattrs.Removexattr"/>.</summary>
    public static Errno Removexattr(Protid who, Node node, ReadOnlySpan<byte> name)
    {
        var e = XattrAccess(who, node, name, write: true);
        if (e != Errno.OK) return e;
        if (node is not IXattrs x) return Errno.EOPNOTSUPP;
        return Acl.IsAclName(name, out bool dflt) ? SetAcl(who, node, x, dflt, default, remove: true) : x.Removexattr(name);
    }

    /// <summary>listxattr: the NUL-terminated names, without <c>trusted.</c> ones for a non-root caller. An empty
    /// <paramref name="list"/> asks for the size; ERANGE when it is too small. A node that is not <see cref="IXattrs"/>
    /// has no attributes (size 0).</summary>
    public static Errno Listxattr(Protid who, Node node, Span<byte> list, out int size)
    {
        size = 0;
        if (node is not IXattrs x) return Errno.OK;
        var e = x.Listxattr(default, out int total);
        if (e != Errno.OK) return e;
        if (total == 0) return Errno.OK;
        var all = new byte[total];
        e = x.Listxattr(all, out total);
        if (e != Errno.OK) return e;
        int n = 0;
        var rest = all.AsSpan(0, total);
        bool root = who.User.IsRoot;
        // First pass: the size; second: the copy. (Names are few; this is not a hot path.)
        foreach (var pass in (ReadOnlySpan<int>)[0, 1])
        {
            n = 0;
            var r = rest;
            while (!r.IsEmpty)
            {
                int z = r.IndexOf((byte)0);
                if (z < 0) z = r.Length - 1;
                var item = r[..(z + 1)];
                r = r[(z + 1)..];
                if (!root && item.StartsWith("trusted."u8)) continue;
                if (pass == 1) item.CopyTo(list[n..]);
                n += item.Length;
            }
            if (pass == 0)
            {
                if (list.IsEmpty) { size = n; return Errno.OK; }
                if (n > list.Length) return Errno.ERANGE;
            }
        }
        size = n;
        return Errno.OK;
    }

    /// <summary>file_get_translator: the passive record (argz). EINVAL when there is none or the node is not
    /// <see cref="ITranslatable"/>.</summary>
    public static Errno FileGetTranslator(Protid who, Node node, out ReadOnlyMemory<byte> argz)
    {
        argz = default;
        if (node is not ITranslatable t || !t.HasPassiveTranslator) return Errno.EINVAL;
        return t.GetTranslator(out argz);
    }

    /// <summary>file_set_translator's passive part: stores (or, when empty, clears) the record. Owner or root only (EPERM);
    /// EOPNOTSUPP when the node is not <see cref="ITranslatable"/>; EINVAL for an argz that does not end in NUL.
    /// Active translators are the serving layer's business (<see cref="Node.ActiveTranslator"/>).</summary>
    public static Errno FileSetTranslator(Protid who, Node node, ReadOnlySpan<byte> argz)
    {
        var e = Stat(who, node, out var st);
        if (e != Errno.OK) return e;
        if (!Permissions.IsOwner(who.User, st)) return Errno.EPERM;
        if (node is not ITranslatable t) return Errno.EOPNOTSUPP;
        if (!argz.IsEmpty && argz[^1] != 0) return Errno.EINVAL;
        return t.SetTranslator(argz);
    }
}
