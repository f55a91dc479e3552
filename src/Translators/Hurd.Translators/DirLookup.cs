using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>The outcome of <see cref="Calls.DirLookup"/>: the Hurd's (do_retry, retry_name, port) triple, with the
/// node in place of the port.</summary>
public readonly struct LookupResult
{
    /// <summary>What the caller does next.</summary>
    public RetryType Retry { get; init; }

    /// <summary>The retry name (UTF-8, no NUL): the rest of the path for <see cref="RetryType.Normal"/> into a translator
    /// and for <see cref="RetryType.Reauth"/>; the whole new path for <see cref="RetryType.Magical"/>. Empty when done.</summary>
    public byte[] RetryName { get; init; }

    /// <summary>The node reached: the opened node when done, the translated node when <see cref="Translated"/>;
    /// null for <see cref="RetryType.Reauth"/> (the serving layer returns the parent of its root) and
    /// <see cref="RetryType.Magical"/>.</summary>
    public Node? Node { get; init; }

    /// <summary>The walk stopped at a node with a translator (active or passive): the serving layer starts or reaches
    /// the translator, and answers with its root and <see cref="RetryName"/> (FS_RETRY_NORMAL).</summary>
    public bool Translated { get; init; }

    /// <summary>The node was created by this lookup (O_CREAT): the open skips permission checks.</summary>
    public bool Created { get; init; }

    /// <summary>True when nothing is left to resolve (<see cref="RetryType.Normal"/>, empty name, not translated).</summary>
    public bool IsDone => Retry == RetryType.Normal && !Translated && RetryName.Length == 0;
}

public static partial class Calls
{
    /// <summary>
    /// The dir_lookup walk inside one filesystem (libdiskfs <c>diskfs_S_dir_lookup</c>), as a pure function over nodes:
    /// resolves every component this filesystem owns, following relative symlinks itself.
    /// </summary>
    /// <param name="dir">The directory the lookup starts at, with the caller's identity.</param>
    /// <param name="root">This translator's root: ".." there leaves the filesystem (FS_RETRY_REAUTH with the rest).</param>
    /// <param name="path">The path, UTF-8 without NUL. Leading slashes are skipped; empty means "reopen <paramref name="dir"/>".</param>
    /// <param name="flags">O_CREAT / O_EXCL create a regular file in the last component; O_NOTRANS reaches a translated
    /// last component itself; O_NOLINK opens a symlink in the last component itself; O_NOFOLLOW makes one an ELOOP;
    /// O_DIRECTORY requires a directory (ENOTDIR).</param>
    /// <param name="mode">Permission bits for a created file (umask applied by the client).</param>
    /// <param name="result">The retry triple.</param>
    /// <returns>ENOENT, ENOTDIR, EACCES (search permission), EEXIST (O_EXCL), ELOOP (more than
    /// <see cref="Limits.SymlinkMax"/> links), ENAMETOOLONG (a component over 255 bytes, a path over PATH_MAX),
    /// EISDIR (O_CREAT on "name/") or an error of the filesystem. Opening (open modes, O_TRUNC) is <see cref="Open"/>.</returns>
    public static Errno DirLookup(Protid dir, Node root, ReadOnlySpan<byte> path, OpenFlags flags, FileMode mode, out LookupResult result)
    {
        result = new LookupResult { Retry = RetryType.Normal, RetryName = [] };
        Identity who = dir.User;
        Node cur = dir.Node;
        ReadOnlySpan<byte> rest = SkipSlashes(path);
        int links = 0;
        bool created = false, trailingSlash = false;
        Node? node;
        if (rest.IsEmpty)
        {
            node = cur;
        }
        else
        {
            while (true)
            {
                int slash = rest.IndexOf((byte)'/');
                ReadOnlySpan<byte> comp = slash < 0 ? rest : rest[..slash];
                ReadOnlySpan<byte> next = slash < 0 ? default : SkipSlashes(rest[slash..]);
                bool last = next.IsEmpty;
                trailingSlash = last && slash >= 0;
                if (comp.Length > Limits.NameMax) return Errno.ENAMETOOLONG;
                if (cur.AsDirectory is not { } d) return Errno.ENOTDIR;
                var e = Stat(dir, cur, out var dst);
                if (e != Errno.OK) return e;
                e = CheckAccess(who, cur, dst, Access.Exec);
                if (e != Errno.OK) return e;

                Node? np;
                if (comp.SequenceEqual("."u8)) np = cur;
                else if (comp.SequenceEqual(".."u8) && cur == root)
                {
                    if (next.Length >= Limits.RetryNameMax) return Errno.ENAMETOOLONG;
                    result = new LookupResult { Retry = RetryType.Reauth, RetryName = next.ToArray() };
                    return Errno.OK;
                }
                else
                {
                    e = d.Lookup(comp, out np);
                    if (e == Errno.ENOENT && last && (flags & OpenFlags.Create) != 0)
                    {
                        if (trailingSlash) return Errno.EISDIR;
                        e = CheckAccess(who, cur, dst, Access.Write | Access.Exec);
                        if (e != Errno.OK) return e;
                        var attrs = Permissions.NewNodeIn(who, dst, FileMode.Regular | (mode & FileMode.PermMask));
                        var acl = InheritAcl(cur, ref attrs);
                        e = d.Create(comp, attrs, out np);
                        if (e == Errno.EEXIST && (flags & OpenFlags.Exclusive) == 0) continue; // lost a race: look it up again
                        if (e != Errno.OK) return e;
                        acl.Apply(np);
                        created = true;
                        node = np!;
                        break;
                    }
                    if (e != Errno.OK) return e;
                }
                if (np is null) return Errno.EIO;
                if (last && (flags & (OpenFlags.Create | OpenFlags.Exclusive)) == (OpenFlags.Create | OpenFlags.Exclusive))
                    return Errno.EEXIST;

                if (np != cur && np.IsTranslated && (!last || (flags & OpenFlags.NoTrans) == 0))
                {
                    if (next.Length >= Limits.RetryNameMax) return Errno.ENAMETOOLONG;
                    result = new LookupResult { Retry = RetryType.Normal, RetryName = next.ToArray(), Node = np, Translated = true };
                    return Errno.OK;
                }

                if (np.AsSymlink is { } sl && (!last || trailingSlash || (flags & OpenFlags.NoLink) == 0))
                {
                    if (last && !trailingSlash && (flags & OpenFlags.NoFollow) != 0) return Errno.ELOOP;
                    if (++links > Limits.SymlinkMax) return Errno.ELOOP;
                    e = sl.Readlink(out var target);
                    if (e != Errno.OK) return e;
                    if (target.IsEmpty) return Errno.ENOENT;
                    int len = target.Length + (next.IsEmpty ? (trailingSlash ? 1 : 0) : 1 + next.Length);
                    if (len >= Limits.PathMax) return Errno.ENAMETOOLONG;
                    var buf = new byte[len];
                    target.Span.CopyTo(buf);
                    if (!next.IsEmpty || trailingSlash) buf[target.Length] = (byte)'/';
                    if (!next.IsEmpty) next.CopyTo(buf.AsSpan(target.Length + 1));
                    if (buf[0] == (byte)'/')
                    {
                        if (len >= Limits.RetryNameMax) return Errno.ENAMETOOLONG;
                        result = new LookupResult { Retry = RetryType.Magical, RetryName = buf };
                        return Errno.OK;
                    }
                    rest = buf;
                    continue; // relative to the symlink's directory (cur)
                }

                if (last) { node = np; break; }
                cur = np;
                rest = next;
            }
        }

        if ((trailingSlash || (flags & OpenFlags.Directory) != 0) && !node.IsDirectory) return Errno.ENOTDIR;
        result = new LookupResult { Retry = RetryType.Normal, RetryName = [], Node = node, Created = created };
        return Errno.OK;
    }

    static ReadOnlySpan<byte> SkipSlashes(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && s[i] == (byte)'/') i++;
        return s[i..];
    }
}
