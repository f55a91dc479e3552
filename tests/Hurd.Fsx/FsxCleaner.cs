using static Hurd.Fsx.Interop.Octal;
using System.Text;
using Hurd.Fsx.Interop;

namespace Hurd.Fsx;

/// <summary>Empties a root directory without ever following a symlink or leaving the root.</summary>
internal static unsafe class FsxCleaner
{
    /// <summary>
    /// Removes everything below <paramref name="root"/> and resets the root itself: mode 0755, no user xattrs, and
    /// (when running as root) owned by <paramref name="uid"/>/<paramref name="gid"/> or the caller.
    /// Throws <see cref="IOException"/> if something cannot be removed: a run must start from identical roots.
    /// </summary>
    public static void Empty(string root, uint? uid, uint? gid)
    {
        Chmod(root, (uint)O(755));
        foreach (var entry in Directory.EnumerateFileSystemEntries(root))
            Remove(entry);
        var rootBytes = Z(root);
        fixed (byte* p = rootBytes)
        {
            if (Libc.geteuid() == 0)
                Libc.lchown(p, uid ?? Libc.geteuid(), gid ?? Libc.getegid());
            var list = new byte[65536];
            fixed (byte* l = list)
            {
                nint n = Libc.listxattr(p, l, list.Length);
                if (n > 0)
                    foreach (var name in Encoding.UTF8.GetString(list, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries))
                        if (name.StartsWith("user.", StringComparison.Ordinal))
                            fixed (byte* nm = Z(name)) Libc.removexattr(p, nm);
            }
        }
        if (Directory.EnumerateFileSystemEntries(root).Any())
            throw new IOException($"could not empty {root}");
    }

    private static void Remove(string path)
    {
        fixed (byte* p = Z(path))
        {
            Libc.StatX st;
            if (Libc.statx(Libc.AT_FDCWD, p, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &st) != 0) return;
            if ((st.Mode & Libc.S_IFMT) == Libc.S_IFDIR)
            {
                Libc.chmod(p, (uint)O(700));
                foreach (var entry in Directory.EnumerateFileSystemEntries(path))
                    Remove(entry);
                if (Libc.rmdir(p) != 0) throw new IOException($"rmdir {path}: {ErrnoNames.Name(Libc.Errno)}");
            }
            else if (Libc.unlink(p) != 0)
                throw new IOException($"unlink {path}: {ErrnoNames.Name(Libc.Errno)}");
        }
    }

    private static void Chmod(string path, uint mode)
    {
        fixed (byte* p = Z(path)) Libc.chmod(p, mode);
    }

    private static byte[] Z(string s)
    {
        var b = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, b);
        return b;
    }
}
