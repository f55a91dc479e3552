using System.Runtime.InteropServices;
using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Cli;

/// <summary>The few libc calls the command line needs (xattrs, signals, realpath). Errors come back as <see cref="Errno"/>.</summary>
internal static partial class Native
{
    public const int SIGKILL = 9, SIGTERM = 15;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setxattr(string path, string name, byte[] value, nuint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getxattr(string path, string name, byte[]? value, nuint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int removexattr(string path, string name);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint p);

    private static Errno LastErrno => (Errno)Marshal.GetLastPInvokeError();

    /// <summary>setxattr(2); OK or the errno.</summary>
    public static Errno SetXattr(string path, string name, byte[] value) =>
        setxattr(path, name, value, (nuint)value.Length, 0) == 0 ? Errno.OK : LastErrno;

    /// <summary>getxattr(2): the value, or null with the errno (ENODATA: no such attribute).</summary>
    public static byte[]? GetXattr(string path, string name, out Errno error)
    {
        error = Errno.OK;
        nint n = getxattr(path, name, null, 0);
        if (n < 0) { error = LastErrno; return null; }
        var buf = new byte[n];
        n = getxattr(path, name, buf, (nuint)buf.Length);
        if (n < 0) { error = LastErrno; return null; }
        return buf.AsSpan(0, (int)n).ToArray();
    }

    /// <summary>removexattr(2); OK or the errno.</summary>
    public static Errno RemoveXattr(string path, string name) => removexattr(path, name) == 0 ? Errno.OK : LastErrno;

    /// <summary>kill(2); OK or the errno (ESRCH: no such process).</summary>
    public static Errno Kill(int pid, int sig) => kill(pid, sig) == 0 ? Errno.OK : LastErrno;

    /// <summary>realpath(3), or null when the path does not resolve.</summary>
    public static string? RealPath(string path)
    {
        nint p = realpath(path, 0);
        if (p == 0) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { free(p); }
    }

    /// <summary>True while process <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; }
    }

    /// <summary>True when process <paramref name="pid"/> is stopped (SIGSTOP, state T or t).</summary>
    public static bool IsStopped(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length && stat[close + 2] is 'T' or 't';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Waits until process <paramref name="pid"/> is gone; false if it is still there after <paramref name="timeout"/>.</summary>
    public static bool WaitGone(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>An argz ("prog\0arg\0") from strings.</summary>
    public static byte[] Argz(IEnumerable<string> args)
    {
        var ms = new MemoryStream();
        foreach (var a in args) { ms.Write(Encoding.UTF8.GetBytes(a)); ms.WriteByte(0); }
        return ms.ToArray();
    }

    /// <summary>The strings of an argz (a trailing NUL or not).</summary>
    public static string[] SplitArgz(ReadOnlySpan<byte> argz)
    {
        var list = new List<string>();
        while (!argz.IsEmpty)
        {
            int z = argz.IndexOf((byte)0);
            if (z < 0) z = argz.Length;
            list.Add(Encoding.UTF8.GetString(argz[..z]));
            argz = z < argz.Length ? argz[(z + 1)..] : default;
        }
        return list.ToArray();
    }
}
