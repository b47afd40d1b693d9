package dev.kiln;

/**
 * A setting from outside the code (an environment variable, a system property) whose value is not
 * what it must be; the message names the setting and the value.
 */
public class InvalidSettingException extends KilnException {
    public InvalidSettingException(String message) {
        super(message);
    }
}
