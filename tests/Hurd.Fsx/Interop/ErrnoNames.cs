namespace Hurd.Fsx.Interop;

/// <summary>Linux errno numbers to their C names, for reports and logs only.</summary>
internal static class ErrnoNames
{
    private static readonly string[] Names = BuildNames();

    /// <summary>The C name of <paramref name="errno"/> ("ENOENT"), or "E&lt;n&gt;" when unknown.</summary>
    public static string Name(int errno) =>
        errno >= 0 && errno < Names.Length && Names[errno] is { Length: > 0 } n ? n : "E" + errno;

    private static string[] BuildNames()
    {
        var t = new string[135];
        void S(int n, string s) => t[n] = s;
        S(0, "OK"); S(1, "EPERM"); S(2, "ENOENT"); S(3, "ESRCH"); S(4, "EINTR"); S(5, "EIO"); S(6, "ENXIO");
        S(7, "E2BIG"); S(8, "ENOEXEC"); S(9, "EBADF"); S(10, "ECHILD"); S(11, "EAGAIN"); S(12, "ENOMEM");
        S(13, "EACCES"); S(14, "EFAULT"); S(15, "ENOTBLK"); S(16, "EBUSY"); S(17, "EEXIST"); S(18, "EXDEV");
        S(19, "ENODEV"); S(20, "ENOTDIR"); S(21, "EISDIR"); S(22, "EINVAL"); S(23, "ENFILE"); S(24, "EMFILE");
        S(25, "ENOTTY"); S(26, "ETXTBSY"); S(27, "EFBIG"); S(28, "ENOSPC"); S(29, "ESPIPE"); S(30, "EROFS");
        S(31, "EMLINK"); S(32, "EPIPE"); S(33, "EDOM"); S(34, "ERANGE"); S(35, "EDEADLK"); S(36, "ENAMETOOLONG");
        S(37, "ENOLCK"); S(38, "ENOSYS"); S(39, "ENOTEMPTY"); S(40, "ELOOP"); S(61, "ENODATA");
        S(75, "EOVERFLOW"); S(95, "EOPNOTSUPP"); S(107, "ENOTCONN"); S(122, "EDQUOT"); S(103, "ECONNABORTED");
        S(110, "ETIMEDOUT"); S(116, "ESTALE");
        return t;
    }
}
