package io.github.batchnorm4j.dist.mpi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Downcall handles to Open MPI's C API in {@code libmpi.so.40} (Open MPI 4.x, Debian's {@code libopenmpi3}).
 *
 * <p>Open MPI's handles ({@code MPI_Comm}, {@code MPI_Datatype}, {@code MPI_Op}, {@code MPI_Errhandler}) are
 * pointers to predefined global objects, so {@code MPI_COMM_WORLD} is the address of the exported symbol
 * {@code ompi_mpi_comm_world}, {@code MPI_DOUBLE} that of {@code ompi_mpi_double}, and so on; they are resolved
 * from the library here. {@code MPI_IN_PLACE} is {@code (void*)1}. Every MPI function returns an {@code int}
 * error code ({@code MPI_SUCCESS = 0}).
 */
final class MpiLibrary {
    static final String LIBRARY = "libmpi.so.40";
    static final int MPI_SUCCESS = 0;
    static final int MPI_THREAD_SERIALIZED = 2;
    static final int MPI_THREAD_MULTIPLE = 3;
    static final int MPI_MAX_ERROR_STRING = 256;
    static final int MPI_MAX_PROCESSOR_NAME = 256;
    static final MemorySegment MPI_IN_PLACE = MemorySegment.ofAddress(1);

    final MemorySegment commWorld;
    final MemorySegment typeDouble;
    final MemorySegment typeFloat;
    final MemorySegment typeByte;
    final MemorySegment opSum;
    final MemorySegment errorsReturn;

    final MethodHandle initThread;
    final MethodHandle initialized;
    final MethodHandle finalized;
    final MethodHandle commRank;
    final MethodHandle commSize;
    final MethodHandle commSetErrhandler;
    final MethodHandle allreduce;
    final MethodHandle allgather;
    final MethodHandle bcast;
    final MethodHandle barrier;
    final MethodHandle abort;
    final MethodHandle finalizeHandle;
    final MethodHandle errorString;
    final MethodHandle processorName;

    private static MpiLibrary instance;

    private final SymbolLookup lib;
    private final Linker linker = Linker.nativeLinker();

    private MpiLibrary(SymbolLookup lib) {
        this.lib = lib;
        commWorld = symbol("ompi_mpi_comm_world");
        typeDouble = symbol("ompi_mpi_double");
        typeFloat = symbol("ompi_mpi_float");
        typeByte = symbol("ompi_mpi_byte");
        opSum = symbol("ompi_mpi_op_sum");
        errorsReturn = symbol("ompi_mpi_errors_return");
        initThread = fn("MPI_Init_thread", ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        initialized = fn("MPI_Initialized", ADDRESS);
        finalized = fn("MPI_Finalized", ADDRESS);
        commRank = fn("MPI_Comm_rank", ADDRESS, ADDRESS);
        commSize = fn("MPI_Comm_size", ADDRESS, ADDRESS);
        commSetErrhandler = fn("MPI_Comm_set_errhandler", ADDRESS, ADDRESS);
        allreduce = fn("MPI_Allreduce", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        allgather = fn("MPI_Allgather", ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        bcast = fn("MPI_Bcast", ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        barrier = fn("MPI_Barrier", ADDRESS);
        abort = fn("MPI_Abort", ADDRESS, JAVA_INT);
        finalizeHandle = fn("MPI_Finalize");
        errorString = fn("MPI_Error_string", JAVA_INT, ADDRESS, ADDRESS);
        processorName = fn("MPI_Get_processor_name", ADDRESS, ADDRESS);
    }

    /**
     * Loads {@code libmpi.so.40} once per process.
     *
     * @throws UnsatisfiedLinkError (with install instructions) when Open MPI is not installed
     */
    static synchronized MpiLibrary load() {
        if (instance == null) {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new UnsatisfiedLinkError("Expected Open MPI's " + LIBRARY + " (Debian/Ubuntu: apt-get install"
                        + " openmpi-bin), got: " + e.getMessage());
            }
            instance = new MpiLibrary(lookup);
        }
        return instance;
    }

    /** True when {@code libmpi.so.40} can be loaded in this process. */
    static boolean available() {
        try {
            load();
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    private MemorySegment symbol(String name) {
        return lib.find(name).orElseThrow(() -> new UnsatisfiedLinkError("Expected symbol " + name + " in "
                + LIBRARY + " (Open MPI 4.x), got none"));
    }

    private MethodHandle fn(String name, java.lang.foreign.MemoryLayout... args) {
        return linker.downcallHandle(symbol(name), FunctionDescriptor.of(JAVA_INT, args));
    }

    /** Open MPI's text for an error code, or the bare code if even that fails. */
    String errorText(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MPI_MAX_ERROR_STRING);
            MemorySegment len = a.allocate(JAVA_INT);
            int rc = (int) errorString.invokeExact(code, buf, len);
            if (rc != MPI_SUCCESS) {
                return "MPI error " + code;
            }
            return buf.getString(0) + " (MPI error " + code + ")";
        } catch (Throwable t) {
            return "MPI error " + code;
        }
    }
}
