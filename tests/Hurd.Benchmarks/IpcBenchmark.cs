namespace Hurd.Benchmarks;

/// <summary>The `ipc` benchmark mode (not written yet).</summary>
public static class IpcBenchmark
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("ipc: not implemented yet");
        return 1;
    }
}
