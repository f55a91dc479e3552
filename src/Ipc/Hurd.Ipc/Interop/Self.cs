using System.Runtime.InteropServices;

namespace Hurd.Ipc.Interop;

/// <summary>This process's own ids (getuid/getgid).</summary>
public static partial class Self
{
    [LibraryImport("libc", EntryPoint = "getuid")] private static partial uint getuid();
    [LibraryImport("libc", EntryPoint = "getgid")] private static partial uint getgid();

    public static uint Uid => getuid();
    public static uint Gid => getgid();
}
