using System.Runtime.InteropServices;
using Hurd.Ipc.Abi;

namespace Hurd.Ipc.Tests;

public partial class ErrnoTests
{
    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial IntPtr strerror(int errnum);

    /// <summary>Every Errno value and message agrees with the machine's C library.</summary>
    [Fact(Timeout = 10_000)]
    public async Task Errno_ValuesAndMessages_MatchTheCLibrary()
    {
        await Task.Yield();
        foreach (Errno e in Enum.GetValues<Errno>())
        {
            if ((int)e <= 0) continue;
            string c = Marshal.PtrToStringUTF8(strerror((int)e))!;
            Assert.Equal(c, e.Message());
        }
    }
}
