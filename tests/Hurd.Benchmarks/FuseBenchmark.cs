namespace Hurd.Benchmarks;

/// <summary>The `fuse` benchmark mode (not written yet).</summary>
public static class FuseBenchmark
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("fuse: not implemented yet");
        return 1;
    }
}
