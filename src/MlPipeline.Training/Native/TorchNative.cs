using System.Runtime.InteropServices;
using MlPipeline.Internals;
using TorchSharp;

namespace MlPipeline.Training.Native;

/// <summary>
/// Loads TorchSharp's native libraries once per process. TorchSharp 0.107's <c>libLibTorchSharp.so</c> is linked
/// against GCC 13's libstdc++ and asks for <c>GLIBCXX_3.4.32</c> only for a link marker it never calls; on hosts
/// with an older libstdc++ (Debian 12) that one requirement is marked weak so the library loads, and any remaining
/// failure is reported with the dynamic loader's own reason instead of TorchSharp's misleading package hint.
/// </summary>
internal static class TorchNative
{
    internal const string LibraryFileName = "libLibTorchSharp.so";
    static readonly Lazy<string?> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Makes sure libtorch is loaded; throws <see cref="InvalidOperationException"/> naming the real cause otherwise.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    static string? Load()
    {
        string? library = OperatingSystem.IsLinux() ? FindLibrary() : null;
        if (library is not null)
        {
            string? hostLibstdcxx = FindHostLibstdcxx();
            if (hostLibstdcxx is not null)
            {
                PatchForHost(library, hostLibstdcxx);
            }
        }
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException(Explain(library, e), e);
        }
        return library;
    }

    /// <summary>The directory .NET probes first for TorchSharp's native library.</summary>
    internal static string? FindLibrary()
    {
        var dirs = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
        {
            dirs.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }
        string? torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        foreach (string? dir in new[] { AppContext.BaseDirectory, torchDir })
        {
            if (string.IsNullOrEmpty(dir)) { continue; }
            dirs.Add(dir);
            dirs.Add(Path.Combine(dir, "runtimes", "linux-x64", "native"));
        }
        return dirs.Select(d => Path.Combine(d, LibraryFileName)).FirstOrDefault(File.Exists);
    }

    /// <summary>The libstdc++ this process uses (from /proc/self/maps), or the system's.</summary>
    internal static string? FindHostLibstdcxx()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.Contains("libstdc++.so", StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }
        catch (IOException)
        {
            // No procfs (a container without it): fall back to the usual locations below.
        }
        string[] known =
        [
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        ];
        return known.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Marks weak every libstdc++ version <paramref name="library"/> needs that <paramref name="hostLibstdcxx"/> lacks.
    /// Returns the versions it marked; does nothing (and returns none) where the host has them all.
    /// </summary>
    internal static IReadOnlyList<string> PatchForHost(string library, string hostLibstdcxx)
    {
        var hostVersions = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(hostLibstdcxx), hostLibstdcxx);
        byte[] bytes = File.ReadAllBytes(library);
        var marked = new List<string>();
        ElfVersionNeeds.MarkWeak(bytes, library, need =>
        {
            bool missing = need.File.StartsWith("libstdc++.so", StringComparison.Ordinal) && !hostVersions.Contains(need.Version);
            if (missing) { marked.Add(need.Version); }
            return missing;
        });
        if (marked.Count == 0) { return marked; }
        try
        {
            AtomicFile.WriteAllBytes(library, bytes);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            PreloadPatchedCopy(library, bytes);
        }
        return marked;
    }

    // The installed copy is read-only (a shared tool folder): load a patched copy from the user's cache instead, after
    // libtorch itself, so the dynamic loader resolves its dependencies and TorchSharp's load by name finds it loaded.
    static void PreloadPatchedCopy(string library, byte[] bytes)
    {
        string dir = Path.GetDirectoryName(library)!;
        string cache = Path.Combine(CacheDirectory.Root, "native", Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16]);
        Directory.CreateDirectory(cache);
        string copy = Path.Combine(cache, LibraryFileName);
        if (!File.Exists(copy)) { AtomicFile.WriteAllBytes(copy, bytes); }
        foreach (string dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            string path = Path.Combine(dir, dependency);
            if (File.Exists(path)) { NativeLibrary.Load(path); }
        }
        NativeLibrary.Load(copy);
    }

    /// <summary>Turns a failed TorchSharp initialisation into a message that names the real cause.</summary>
    internal static string Explain(string? library, Exception failure)
    {
        if (library is null)
        {
            return $"TorchSharp's native library {LibraryFileName} was not found next to the application or TorchSharp.dll. " +
                "Reference the TorchSharp-cpu package (it brings libtorch-cpu-linux-x64) from the project that runs training. " +
                $"TorchSharp said: {failure.Message}";
        }
        string reason;
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(library));
            reason = failure.Message;
        }
        catch (DllNotFoundException e)
        {
            reason = e.Message;
        }
        string hint = reason.Contains("GLIBCXX_", StringComparison.Ordinal) || reason.Contains("CXXABI_", StringComparison.Ordinal)
            ? " The host's libstdc++ is older than the one TorchSharp was built with (GCC 13); install a newer libstdc++6."
            : string.Empty;
        return $"TorchSharp's native library '{library}' failed to load: {reason}.{hint}";
    }
}
