/** The {@code kiln} command. */
module dev.kiln.cli {
    requires dev.kiln;
    requires dev.kiln.models;
    requires dev.kiln.conformance;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    requires me.tongfei.progressbar;
    requires java.management;
    // The machine peak of bench --profile (MachinePeak). Static: the backend comes in as a service as
    // ever, and a command line without it (or without the Vector API) reports "no peak measured".
    requires static dev.kiln.cpusimd;

    // picocli builds the commands by reflection; Jackson writes their JSON records.
    opens dev.kiln.cli to info.picocli, com.fasterxml.jackson.databind;
}
