namespace Hurd.Interfaces.Tests;

/// <summary>Hurd.Interfaces is L1: it references only the IPC core (and the runtime); the generator is build-time only.</summary>
public class LayeringTests
{
    [Fact(Timeout = 30_000)]
    public Task Interfaces_ReferenceOnlyTheIpcCore() => T.Run(() =>
    {
        var refs = typeof(IIo).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("Hurd.Ipc", refs);
        Assert.All(refs, n => Assert.True(n == "Hurd.Ipc" || n.StartsWith("System", StringComparison.Ordinal) || n == "netstandard",
            $"Hurd.Interfaces references {n}"));
    });
}
