// Linux errno values (asm-generic/errno-base.h, asm-generic/errno.h, x86-64).
// An Errno is a value, never an exception: handlers return it, 0 (OK) is success.
// A test checks these numbers against the C library (strerror) on the machine.
namespace Hurd.Ipc.Abi;

/// <summary>A POSIX error number; <see cref="OK"/> (0) is success.</summary>
public enum Errno : int
{
    /// <summary>Success.</summary>
    OK = 0,
    /// <summary>Operation not permitted.</summary>
    EPERM = 1,
    /// <summary>No such file or directory.</summary>
    ENOENT = 2,
    /// <summary>No such process.</summary>
    ESRCH = 3,
    /// <summary>Interrupted system call.</summary>
    EINTR = 4,
    /// <summary>Input/output error.</summary>
    EIO = 5,
    /// <summary>No such device or address.</summary>
    ENXIO = 6,
    /// <summary>Argument list too long.</summary>
    E2BIG = 7,
    /// <summary>Exec format error.</summary>
    ENOEXEC = 8,
    /// <summary>Bad file descriptor.</summary>
    EBADF = 9,
    /// <summary>No child processes.</summary>
    ECHILD = 10,
    /// <summary>Resource temporarily unavailable.</summary>
    EAGAIN = 11,
    /// <summary>Cannot allocate memory.</summary>
    ENOMEM = 12,
    /// <summary>Permission denied.</summary>
    EACCES = 13,
    /// <summary>Bad address.</summary>
    EFAULT = 14,
    /// <summary>Block device required.</summary>
    ENOTBLK = 15,
    /// <summary>Device or resource busy.</summary>
    EBUSY = 16,
    /// <summary>File exists.</summary>
    EEXIST = 17,
    /// <summary>Invalid cross-device link.</summary>
    EXDEV = 18,
    /// <summary>No such device.</summary>
    ENODEV = 19,
    /// <summary>Not a directory.</summary>
    ENOTDIR = 20,
    /// <summary>Is a directory.</summary>
    EISDIR = 21,
    /// <summary>Invalid argument.</summary>
    EINVAL = 22,
    /// <summary>Too many open files in system.</summary>
    ENFILE = 23,
    /// <summary>Too many open files.</summary>
    EMFILE = 24,
    /// <summary>Inappropriate ioctl for device.</summary>
    ENOTTY = 25,
    /// <summary>Text file busy.</summary>
    ETXTBSY = 26,
    /// <summary>File too large.</summary>
    EFBIG = 27,
    /// <summary>No space left on device.</summary>
    ENOSPC = 28,
    /// <summary>Illegal seek.</summary>
    ESPIPE = 29,
    /// <summary>Read-only file system.</summary>
    EROFS = 30,
    /// <summary>Too many links.</summary>
    EMLINK = 31,
    /// <summary>Broken pipe.</summary>
    EPIPE = 32,
    /// <summary>Numerical argument out of domain.</summary>
    EDOM = 33,
    /// <summary>Numerical result out of range.</summary>
    ERANGE = 34,
    /// <summary>Resource deadlock avoided.</summary>
    EDEADLK = 35,
    /// <summary>File name too long.</summary>
    ENAMETOOLONG = 36,
    /// <summary>No locks available.</summary>
    ENOLCK = 37,
    /// <summary>Function not implemented.</summary>
    ENOSYS = 38,
    /// <summary>Directory not empty.</summary>
    ENOTEMPTY = 39,
    /// <summary>Too many levels of symbolic links.</summary>
    ELOOP = 40,
    /// <summary>No message of desired type.</summary>
    ENOMSG = 42,
    /// <summary>Identifier removed.</summary>
    EIDRM = 43,
    /// <summary>No data available.</summary>
    ENODATA = 61,
    /// <summary>Timer expired.</summary>
    ETIME = 62,
    /// <summary>Link has been severed.</summary>
    ENOLINK = 67,
    /// <summary>Protocol error.</summary>
    EPROTO = 71,
    /// <summary>Bad message.</summary>
    EBADMSG = 74,
    /// <summary>Value too large for defined data type.</summary>
    EOVERFLOW = 75,
    /// <summary>Invalid or incomplete multibyte or wide character.</summary>
    EILSEQ = 84,
    /// <summary>Too many users.</summary>
    EUSERS = 87,
    /// <summary>Socket operation on non-socket.</summary>
    ENOTSOCK = 88,
    /// <summary>Message too long.</summary>
    EMSGSIZE = 90,
    /// <summary>Protocol wrong type for socket.</summary>
    EPROTOTYPE = 91,
    /// <summary>Protocol not available.</summary>
    ENOPROTOOPT = 92,
    /// <summary>Protocol not supported.</summary>
    EPROTONOSUPPORT = 93,
    /// <summary>Operation not supported.</summary>
    EOPNOTSUPP = 95,
    /// <summary>Address already in use.</summary>
    EADDRINUSE = 98,
    /// <summary>Software caused connection abort.</summary>
    ECONNABORTED = 103,
    /// <summary>Connection reset by peer.</summary>
    ECONNRESET = 104,
    /// <summary>No buffer space available.</summary>
    ENOBUFS = 105,
    /// <summary>Transport endpoint is not connected.</summary>
    ENOTCONN = 107,
    /// <summary>Cannot send after transport endpoint shutdown.</summary>
    ESHUTDOWN = 108,
    /// <summary>Connection timed out.</summary>
    ETIMEDOUT = 110,
    /// <summary>Connection refused.</summary>
    ECONNREFUSED = 111,
    /// <summary>Host is down.</summary>
    EHOSTDOWN = 112,
    /// <summary>Operation already in progress.</summary>
    EALREADY = 114,
    /// <summary>Operation now in progress.</summary>
    EINPROGRESS = 115,
    /// <summary>Stale file handle.</summary>
    ESTALE = 116,
    /// <summary>Disk quota exceeded.</summary>
    EDQUOT = 122,
    /// <summary>Operation canceled.</summary>
    ECANCELED = 125,
    /// <summary>Owner died.</summary>
    EOWNERDEAD = 130,
    /// <summary>State not recoverable.</summary>
    ENOTRECOVERABLE = 131,
    /// <summary>Hurd-specific (MIG_BAD_ID): the server does not implement this routine id. Never on the POSIX surface: callers map it to EOPNOTSUPP.</summary>
    MIG_BAD_ID = -303,
    /// <summary>Hurd-specific (MIG_SERVER_DIED / MACH_SEND_INVALID_DEST): the port's receiver is gone (dead name).</summary>
    EDIED = -308,
    /// <summary>Hurd-specific (MIG_NO_REPLY): a server routine returns it to say "I will reply later" (deferred reply). Never sent on the wire.</summary>
    MIG_NO_REPLY = -305,
}

/// <summary>Helpers for <see cref="Errno"/>.</summary>
public static class ErrnoExtensions
{
    /// <summary>The C library's message for the error, as strerror(3) prints it.</summary>
    public static string Message(this Errno e) => e switch
    {
        Errno.OK => "Success",
        Errno.EPERM => "Operation not permitted",
        Errno.ENOENT => "No such file or directory",
        Errno.ESRCH => "No such process",
        Errno.EINTR => "Interrupted system call",
        Errno.EIO => "Input/output error",
        Errno.ENXIO => "No such device or address",
        Errno.E2BIG => "Argument list too long",
        Errno.ENOEXEC => "Exec format error",
        Errno.EBADF => "Bad file descriptor",
        Errno.ECHILD => "No child processes",
        Errno.EAGAIN => "Resource temporarily unavailable",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.EACCES => "Permission denied",
        Errno.EFAULT => "Bad address",
        Errno.ENOTBLK => "Block device required",
        Errno.EBUSY => "Device or resource busy",
        Errno.EEXIST => "File exists",
        Errno.EXDEV => "Invalid cross-device link",
        Errno.ENODEV => "No such device",
        Errno.ENOTDIR => "Not a directory",
        Errno.EISDIR => "Is a directory",
        Errno.EINVAL => "Invalid argument",
        Errno.ENFILE => "Too many open files in system",
        Errno.EMFILE => "Too many open files",
        Errno.ENOTTY => "Inappropriate ioctl for device",
        Errno.ETXTBSY => "Text file busy",
        Errno.EFBIG => "File too large",
        Errno.ENOSPC => "No space left on device",
        Errno.ESPIPE => "Illegal seek",
        Errno.EROFS => "Read-only file system",
        Errno.EMLINK => "Too many links",
        Errno.EPIPE => "Broken pipe",
        Errno.EDOM => "Numerical argument out of domain",
        Errno.ERANGE => "Numerical result out of range",
        Errno.EDEADLK => "Resource deadlock avoided",
        Errno.ENAMETOOLONG => "File name too long",
        Errno.ENOLCK => "No locks available",
        Errno.ENOSYS => "Function not implemented",
        Errno.ENOTEMPTY => "Directory not empty",
        Errno.ELOOP => "Too many levels of symbolic links",
        Errno.ENOMSG => "No message of desired type",
        Errno.EIDRM => "Identifier removed",
        Errno.ENODATA => "No data available",
        Errno.ETIME => "Timer expired",
        Errno.ENOLINK => "Link has been severed",
        Errno.EPROTO => "Protocol error",
        Errno.EBADMSG => "Bad message",
        Errno.EOVERFLOW => "Value too large for defined data type",
        Errno.EILSEQ => "Invalid or incomplete multibyte or wide character",
        Errno.EUSERS => "Too many users",
        Errno.ENOTSOCK => "Socket operation on non-socket",
        Errno.EMSGSIZE => "Message too long",
        Errno.EPROTOTYPE => "Protocol wrong type for socket",
        Errno.ENOPROTOOPT => "Protocol not available",
        Errno.EPROTONOSUPPORT => "Protocol not supported",
        Errno.EOPNOTSUPP => "Operation not supported",
        Errno.EADDRINUSE => "Address already in use",
        Errno.ECONNABORTED => "Software caused connection abort",
        Errno.ECONNRESET => "Connection reset by peer",
        Errno.ENOBUFS => "No buffer space available",
        Errno.ENOTCONN => "Transport endpoint is not connected",
        Errno.ESHUTDOWN => "Cannot send after transport endpoint shutdown",
        Errno.ETIMEDOUT => "Connection timed out",
        Errno.ECONNREFUSED => "Connection refused",
        Errno.EHOSTDOWN => "Host is down",
        Errno.EALREADY => "Operation already in progress",
        Errno.EINPROGRESS => "Operation now in progress",
        Errno.ESTALE => "Stale file handle",
        Errno.EDQUOT => "Disk quota exceeded",
        Errno.ECANCELED => "Operation canceled",
        Errno.EOWNERDEAD => "Owner died",
        Errno.ENOTRECOVERABLE => "State not recoverable",
        Errno.MIG_BAD_ID => "Operation not supported by the server (MIG_BAD_ID)",
        Errno.EDIED => "Server died (dead name)",
        Errno.MIG_NO_REPLY => "Reply deferred",
        _ => $"Unknown error {(int)e}",
    };

    /// <summary>The value for the POSIX surface: Hurd-only codes map to their POSIX meaning (MIG_BAD_ID is EOPNOTSUPP, a dead server is EIO).</summary>
    public static Errno ToPosix(this Errno e) => e switch
    {
        Errno.MIG_BAD_ID => Errno.EOPNOTSUPP,
        Errno.EDIED => Errno.EIO,
        Errno.MIG_NO_REPLY => Errno.EIO,
        _ => e,
    };
}
