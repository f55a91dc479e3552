using Hurd.Fuse;

namespace Hurd.Fuse.Tests;

/// <summary>
/// The test assembly's entry point. The test host never calls it; the crash tests run
/// <c>dotnet exec Hurd.Fuse.Tests.dll daemon [SOURCE] MOUNTPOINT [-o opts] [-f]</c> to get a real daemon process
/// they can kill -9, and through a wrapper named <c>hurdfusetest</c> as <c>mount -t fuse.hurdfusetest</c> runs it.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2 || args[0] != "daemon")
        {
            Console.Error.WriteLine("usage: Hurd.Fuse.Tests daemon MOUNTPOINT [-o OPTIONS]");
            return 2;
        }
        if (!FuseMountOptions.TryParse(args[1..], out var options, out string? error))
        {
            Console.Error.WriteLine("Hurd.Fuse.Tests: " + error);
            return 2;
        }
        options.Subtype = TestMount.Subtype;
        // Started by mount(8) through mount.fuse3 (an fstab line): go to the background once mounted.
        if (FuseDaemon.Background(options, args) is int code) return code;
        var fs = new MemFs();
        fs.AddFile("hello", "Hello, world!\n");
        using var session = FuseSession.Mount(fs, options);
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        session.Wait();
        return 0;
    }
}
