namespace Hurd.Benchmarks;

/// <summary>The `fs` benchmark mode (not written yet).</summary>
public static class FsBenchmark
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("fs: not implemented yet");
        return 1;
    }
}
