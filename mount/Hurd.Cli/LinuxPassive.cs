using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;

namespace Hurd.Cli;

/// <summary>
/// The passive translator record of a plain Linux node: the argz in the node's xattr, as the Hurd's
/// ext2fs keeps it in <c>gnu.translator</c>. Linux reserves the <c>trusted.</c> namespace for root, so
/// root writes <c>trusted.gnu.translator</c> and other users <c>user.gnu.translator</c>; reading tries both.
/// Nothing starts such a record on lookup (Linux has no hook for it): <c>hurd settrans -s NODE</c> starts it.
/// </summary>
public static class LinuxPassive
{
    /// <summary>The xattr this user writes.</summary>
    public static string Name => Self.Uid == 0 ? "trusted.gnu.translator" : "user.gnu.translator";

    /// <summary>The recorded command line, or null if none.</summary>
    public static string[]? Get(string path)
    {
        foreach (var name in new[] { "trusted.gnu.translator", "user.gnu.translator" })
        {
            var v = Native.GetXattr(path, name, out _);
            if (v is { Length: > 0 }) return Native.SplitArgz(v);
        }
        return null;
    }

    /// <summary>Records <paramref name="argv"/>; OK, or the errno (ENOTSUP/EOPNOTSUPP: the filesystem has no xattrs).</summary>
    public static Errno Set(string path, string[] argv) => Native.SetXattr(path, Name, Native.Argz(argv));

    /// <summary>Removes the records (a missing one is fine); OK or the first real error.</summary>
    public static Errno Clear(string path)
    {
        var result = Errno.OK;
        foreach (var name in new[] { "trusted.gnu.translator", "user.gnu.translator" })
        {
            var e = Native.RemoveXattr(path, name);
            if (e is Errno.OK or Errno.ENODATA or Errno.EOPNOTSUPP or Errno.EPERM) continue;
            if (result == Errno.OK) result = e;
        }
        return result;
    }
}
