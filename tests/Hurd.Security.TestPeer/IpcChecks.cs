namespace Hurd.Security.Testing;

/// <summary>The <c>ipc</c> mode: an unprivileged IPC client (filled in below).</summary>
internal static class IpcChecks
{
    public static int Run(string[] args)
    {
        Console.WriteLine("fail not yet");
        return 2;
    }
}
