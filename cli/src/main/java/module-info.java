/** The {@code kiln} command. */
module dev.kiln.cli {
    requires dev.kiln;
    requires dev.kiln.models;
    requires dev.kiln.conformance;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    requires me.tongfei.progressbar;
    requires java.management;

    // picocli builds the commands by reflection; Jackson writes their JSON records.
    opens dev.kiln.cli to info.picocli, com.fasterxml.jackson.databind;
}
