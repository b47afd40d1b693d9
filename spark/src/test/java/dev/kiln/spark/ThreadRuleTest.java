package dev.kiln.spark;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The executor's cores as Spark's configuration gives them, in local mode and on a cluster. */
class ThreadRuleTest {
    private static int cores(String master, String executorCores) {
        SparkConf conf = new SparkConf(false).set("spark.master", master);
        if (executorCores != null) {
            conf.set("spark.executor.cores", executorCores);
        }
        return ThreadRule.executorCores(conf, 16);
    }

    @Test
    void localModeHasTheCoresOfItsMaster() {
        assertEquals(2, cores("local[2]", null));
        assertEquals(3, cores("local[3,4]", null), "local[N, maxFailures]");
        assertEquals(16, cores("local[*]", null));
        assertEquals(1, cores("local", null));
    }

    @Test
    void clusterExecutorsHaveTheirConfiguredCores() {
        assertEquals(4, cores("spark://host:7077", "4"));
        assertEquals(16, cores("yarn", null), "unset: the JVM's processors");
    }
}
