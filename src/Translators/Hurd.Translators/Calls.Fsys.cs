using Hurd.Ipc.Abi;

namespace Hurd.Translators;

public static partial class Calls
{
    /// <summary>file_get_fs_options / fsys_get_options: the filesystem's options (<see cref="IFilesystemOptions"/>;
    /// default: none). Anyone may ask.</summary>
    public static Errno FileGetFsOptions(Protid who, out byte[] argz)
    {
        argz = who.Node is IFilesystemOptions o ? o.GetOptions() : [];
        return Errno.OK;
    }

    /// <summary>fshelp_iscontroller, the check behind file_getcontrol: the control port (and with it fsys_set_options
    /// and fsys_goaway) goes only to root and to the owner of the translator's root node. EPERM otherwise.</summary>
    public static Errno CheckController(Protid who, Node root)
    {
        if (who.User.IsRoot) return Errno.OK;
        var e = Stat(who, root, out var st);
        if (e != Errno.OK) return e;
        return who.User.HasUid(st.Uid) ? Errno.OK : Errno.EPERM;
    }

    /// <summary>fsys_set_options on the filesystem of <paramref name="root"/> (the caller holds the control port, see
    /// <see cref="CheckController"/>): <see cref="IFilesystemOptions.SetOptions"/>; EOPNOTSUPP when the filesystem has
    /// no options; EINVAL for an argz that does not end in NUL.</summary>
    public static Errno FsysSetOptions(Node root, ReadOnlySpan<byte> argz)
    {
        if (!argz.IsEmpty && argz[^1] != 0) return Errno.EINVAL;
        return root is IFilesystemOptions o ? o.SetOptions(argz) : Errno.EOPNOTSUPP;
    }
}
